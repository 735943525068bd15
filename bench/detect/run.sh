#!/usr/bin/env bash
# Detection-quality benchmark: five weeks of synthetic traffic for 200 relay keys and 20 provider keys with the
# incidents of incidents.txt injected, through the sweep's own pass, detectors, baselines, budget rule and shadow-usage
# judgement (the table seams in memory; no Azurite). See bench/README.md.
#   bench/detect/run.sh          build (Release), run, print the table; also written to bench/detect/results.txt
# Knobs (environment): BENCH_DETECT_INCIDENTS (bench/detect/incidents.txt), BENCH_DETECT_SEED (1),
# BENCH_DETECT_DAYS (35), BENCH_SKIP_BUILD=1.
# Exits non-zero when an acceptance target of issue 21 is missed (or the benchmark could not run).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/../.." && pwd)"
RUN_DIR="$BENCH_DIR/.run"
mkdir -p "$RUN_DIR"
log() { printf '[bench] %s\n' "$*" >&2; }

if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
  log "building bench/DetectBench (Release)"
  dotnet build "$ROOT/bench/DetectBench/DetectBench.csproj" -c Release -v q --nologo >"$RUN_DIR/build.log" 2>&1 || { cat "$RUN_DIR/build.log" >&2; log "build failed"; exit 2; }
fi

dotnet "$ROOT/bench/DetectBench/bin/Release/net10.0/DetectBench.dll" \
  --incidents "${BENCH_DETECT_INCIDENTS:-$BENCH_DIR/incidents.txt}" \
  --seed "${BENCH_DETECT_SEED:-1}" --days "${BENCH_DETECT_DAYS:-35}" \
  --out "$BENCH_DIR/results.txt"
