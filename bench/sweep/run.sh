#!/usr/bin/env bash
# Sweep benchmark: one 5-minute window of audit rows (300,000 by default: 1,000 calls/s over 2,000 relay keys and 50
# sources) seeded into an in-memory Azurite, then the sweep's pass over it timed against a plain read of the same rows
# (same SDK, filter and projection): the floor. See bench/README.md.
#   bench/sweep/run.sh         build (Release), start Azurite, seed, measure, print, stop Azurite
#   bench/sweep/run.sh usage   GET usage over 31 days instead: a month of this traffic's rollups, the open window's
#                              raw rows swept as the sweep does, a raw edge after it; timed per groupBy and checked
#                              against the seeded counts (results in usage-results.txt)
# Knobs (environment): BENCH_SWEEP_ROWS (300000), BENCH_SWEEP_KEYS (2000), BENCH_SWEEP_SOURCES (50),
# BENCH_SWEEP_ROUNDS (1; more alternate floor and sweep, the fastest of each counts), BENCH_SKIP_BUILD=1;
# usage: BENCH_USAGE_RATE (calls/s, 1000), BENCH_USAGE_EDGE (seconds of raw rows after the last swept window, 60: the
# sweep's settle delay), BENCH_USAGE_REPEATS (2).
# Prints a RESULT line and whether the targets were met (under 30 s, within 1.5x of the floor, peak managed memory
# under 256 MB); exits 0 whether or not they were, non-zero when the benchmark itself could not run.
set -euo pipefail
MODE="${1:-sweep}"
[[ "$MODE" == sweep || "$MODE" == usage ]] || { echo "usage: $0 [sweep|usage]" >&2; exit 2; }

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/../.." && pwd)"
RUN_DIR="$BENCH_DIR/.run"
mkdir -p "$RUN_DIR"
log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

AZURITE_PID=""
stop() {
  # Azurite shuts down cleanly on SIGINT.
  if [[ -n "$AZURITE_PID" ]]; then
    kill -INT "$AZURITE_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$AZURITE_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$AZURITE_PID" 2>/dev/null || true
    wait "$AZURITE_PID" 2>/dev/null || true
  fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ -f "$ROOT/node_modules/azurite/dist/src/table/main.js" ]] || (cd "$ROOT" && npm ci --no-audit --no-fund >&2) || die "npm ci failed"
if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
  log "building bench/SweepBench (Release)"
  dotnet build "$ROOT/bench/SweepBench/SweepBench.csproj" -c Release -v q --nologo >"$RUN_DIR/build.log" 2>&1 || { cat "$RUN_DIR/build.log" >&2; die "build failed"; }
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
node "$ROOT/node_modules/azurite/dist/src/table/main.js" --tableHost 127.0.0.1 --tablePort "$port" --inMemoryPersistence \
  --skipApiVersionCheck --disableTelemetry --silent --loose >"$RUN_DIR/azurite.log" 2>&1 &
AZURITE_PID=$!
for _ in $(seq 1 150); do
  grep -q "successfully started" "$RUN_DIR/azurite.log" 2>/dev/null && break
  kill -0 "$AZURITE_PID" 2>/dev/null || { cat "$RUN_DIR/azurite.log" >&2; die "Azurite did not start"; }
  sleep 0.2
done
grep -q "successfully started" "$RUN_DIR/azurite.log" || die "Azurite did not start in 30 s"
log "Azurite (tables, in memory) http://127.0.0.1:$port"

STORAGE="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$port/devstoreaccount1;"
if [[ "$MODE" == usage ]]; then
  dotnet "$ROOT/bench/SweepBench/bin/Release/net10.0/SweepBench.dll" --storage "$STORAGE" --mode usage \
    --keys "${BENCH_SWEEP_KEYS:-2000}" --sources "${BENCH_SWEEP_SOURCES:-50}" --rate "${BENCH_USAGE_RATE:-1000}" \
    --edge "${BENCH_USAGE_EDGE:-60}" --repeats "${BENCH_USAGE_REPEATS:-2}" | tee "$BENCH_DIR/usage-results.txt"
else
  dotnet "$ROOT/bench/SweepBench/bin/Release/net10.0/SweepBench.dll" --storage "$STORAGE" \
    --rows "${BENCH_SWEEP_ROWS:-300000}" --keys "${BENCH_SWEEP_KEYS:-2000}" --sources "${BENCH_SWEEP_SOURCES:-50}" \
    --rounds "${BENCH_SWEEP_ROUNDS:-1}" | tee "$BENCH_DIR/results.txt"
fi
