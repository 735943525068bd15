#!/usr/bin/env bash
# Relay benchmark: the FuncKeyOps Server host's relay against a direct call, a bare YARP proxy and the Portkey
# gateway, all on 127.0.0.1 in front of one fast fake OpenAI upstream. See bench/README.md.
#   bench/relay/run.sh          build, start everything, measure, print and write the summary, stop everything
#   bench/relay/run.sh serve    build and start everything, write the targets (URLs, keys, pids) to
#                               bench/relay/.run/targets.env and wait (BENCH_SERVE_SECONDS, 1800) for Ctrl-C: for profiling
#   bench/relay/run.sh ablation the relay with one stage at a time swapped out (bench/RelayVariants) and with runtime
#                               knobs, against direct and bare, non-streaming; BENCH_ABLATION lists the variants
#                               (about 30 s each); writes bench/relay/ablation.txt
# Knobs (environment): BENCH_DURATION (10s per wrk run), BENCH_WARMUP (5s per warm-up round), BENCH_WARMUP_ROUNDS (12),
# BENCH_WARMUP_TOLERANCE_PCT (5: warm-up ends when two rounds in a row agree this closely), BENCH_REPEAT (5 rounds at
# 32 connections, every target once per round; ratios within a round, their median counts), BENCH_STREAM_COUNT (200),
# BENCH_CHUNKS (5), BENCH_CHUNK_DELAY_MS (20), BENCH_TARGETS ("direct bare relay relay-pool relay-offbox portkey"),
# BENCH_SERVER_ENV (extra VAR=value words for the Server host only, e.g. "DOTNET_gcServer=1"),
# BENCH_SKIP_BUILD=1 (reuse the last Release build), BENCH_AZURITE_NODE_ARGS (node flags for Azurite, e.g. "--cpu-prof").
# Prints a summary (also written to bench/relay/results.txt); exits 0 whether or not the targets are met,
# non-zero when the benchmark itself could not run.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/../.." && pwd)"
RUN_DIR="$BENCH_DIR/.run"          # logs of this run (gitignored)
RESULTS="$BENCH_DIR/results.txt"
DURATION="${BENCH_DURATION:-10s}"
WARMUP="${BENCH_WARMUP:-5s}"
WARMUP_ROUNDS="${BENCH_WARMUP_ROUNDS:-12}"
REPEAT="${BENCH_REPEAT:-5}"
WARMUP_TOLERANCE_PCT="${BENCH_WARMUP_TOLERANCE_PCT:-5}"
STREAM_COUNT="${BENCH_STREAM_COUNT:-200}"
RAW_COUNT="${BENCH_RAW_COUNT:-2000}"
AZURITE_STORE="${BENCH_AZURITE_STORE:-memory}" # memory: --inMemoryPersistence (its disk snapshots are no part of Table Storage); disk: --location <tmp>
QUIET_MAX_S="${BENCH_QUIET_MAX_S:-60}"
CHUNKS="${BENCH_CHUNKS:-5}"
CHUNK_DELAY_MS="${BENCH_CHUNK_DELAY_MS:-20}"
TARGETS="${BENCH_TARGETS:-direct bare relay relay-pool relay-offbox portkey}"
read -r -a SERVER_ENV <<<"${BENCH_SERVER_ENV:-}"
CONFIG=Release
TFM=net10.0
SERVER_DLL="$ROOT/src/FuncKeyOps.Server/bin/$CONFIG/$TFM/FuncKeyOps.Server.dll"

PIDS=()
AZURITE_PIDS=()
TMP_DIRS=()
log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# Azurite only shuts down cleanly (and node writes a --cpu-prof profile) on SIGINT; the .NET hosts take SIGTERM.
stop_signal() {
  local p
  for p in "${AZURITE_PIDS[@]}"; do [[ "$p" == "$1" ]] && { echo INT; return; }; done
  echo TERM
}

# Newest first, so the relay hosts stop (and flush what they buffer) while Azurite and the vault still run;
# each gets 15 s before it is killed.
stop_started() {
  local pid dir i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid="${PIDS[$i]}"
    kill "-$(stop_signal "$pid")" "$pid" 2>/dev/null || continue
    for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
  for dir in "${TMP_DIRS[@]}"; do rm -rf "$dir"; done
  TMP_DIRS=()
}
trap stop_started EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Polls a URL until it answers 2xx; at most $3 tries 0.2 s apart, giving up early if the process died.
wait_http() {
  local url="$1" pid="$2" tries="${3:-300}"
  for _ in $(seq 1 "$tries"); do
    curl -fs -o /dev/null --max-time 2 "$url" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# Polls a log until a line matches; at most $4 tries 0.2 s apart, giving up early if the process died.
wait_line() {
  local file="$1" pattern="$2" pid="$3" tries="${4:-300}"
  for _ in $(seq 1 "$tries"); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  grep -q "$pattern" "$file" 2>/dev/null
}

# CPU time (ms) a process has used so far, from /proc: utime + stime.
cpu_ms() {
  local ticks
  ticks="$(awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0)"
  echo $((ticks * 1000 / $(getconf CLK_TCK)))
}

# ---------------------------------------------------------------- tools
ensure_tools() {
  if ! command -v wrk >/dev/null; then
    log "installing wrk (apt)"
    { apt-get update -qq && apt-get install -y -qq wrk; } >"$RUN_DIR/apt.log" 2>&1 || { cat "$RUN_DIR/apt.log" >&2; die "could not install wrk"; }
  fi
  if [[ ! -x "$ROOT/node_modules/.bin/azurite-table" || ! "$ROOT/node_modules/.package-lock.json" -nt "$ROOT/package-lock.json" ]]; then
    log "npm ci at the repo root (Azurite)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
  if [[ ! -e "$BENCH_DIR/node_modules/.bin/gateway" || ! "$BENCH_DIR/node_modules/.package-lock.json" -nt "$BENCH_DIR/package-lock.json" ]]; then
    log "npm ci in bench/relay (Portkey gateway)"
    (cd "$BENCH_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
}

build() {
  if [[ "${BENCH_SKIP_BUILD:-}" == 1 ]]; then
    log "BENCH_SKIP_BUILD=1: using the last $CONFIG build"
    return
  fi
  log "building in $CONFIG: Server host, FuncKeyOps.Testing (vault), bench projects (bench/Bench.slnx)"
  dotnet build "$ROOT/bench/Bench.slnx" -c "$CONFIG" --nologo -v q >"$RUN_DIR/build.log" 2>&1 || { tail -40 "$RUN_DIR/build.log" >&2; die "build failed"; }
  # A project left out of Bench.slnx would be built in Debug and copied in: measure optimised code only.
  local lib="$ROOT/src/FuncKeyOps/bin/$CONFIG/$TFM/FuncKeyOps.dll" host
  for host in src/FuncKeyOps.Server bench/RelayVariants; do
    cmp -s "$lib" "$ROOT/$host/bin/$CONFIG/$TFM/FuncKeyOps.dll" || die "$host does not run the $CONFIG build of the library"
  done
}

# ---------------------------------------------------------------- processes
start_upstream() {
  UPSTREAM_PORT="$(free_port)"
  UPSTREAM_KEY="bench-upstream-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
  dotnet "$ROOT/bench/FakeUpstream/bin/$CONFIG/$TFM/FakeUpstream.dll" --urls "http://127.0.0.1:$UPSTREAM_PORT" \
    --key "$UPSTREAM_KEY" --chunks "$CHUNKS" --chunk-delay-ms "$CHUNK_DELAY_MS" >"$RUN_DIR/upstream.log" 2>&1 &
  PIDS+=("$!"); UPSTREAM_PID=$!
  wait_http "http://127.0.0.1:$UPSTREAM_PORT/health" "$UPSTREAM_PID" || { cat "$RUN_DIR/upstream.log" >&2; die "fake upstream did not start"; }
  UPSTREAM_URL="http://127.0.0.1:$UPSTREAM_PORT"
  log "fake upstream     $UPSTREAM_URL"
}

start_azurite() {
  local port location
  port="$(free_port)"
  local store=()
  if [[ "$AZURITE_STORE" == memory ]]; then
    store=(--inMemoryPersistence)
  else
    location="$(mktemp -d "${TMPDIR:-/tmp}/fko-bench-azurite-XXXXXX")"
    TMP_DIRS+=("$location")
    store=(--location "$location")
  fi
  # shellcheck disable=SC2086 # BENCH_AZURITE_NODE_ARGS is a list of node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"
  node ${BENCH_AZURITE_NODE_ARGS:-} "$ROOT/node_modules/azurite/dist/src/table/main.js" --tableHost 127.0.0.1 --tablePort "$port" "${store[@]}" \
    --skipApiVersionCheck --disableTelemetry --silent --loose >"$RUN_DIR/azurite.log" 2>&1 &
  PIDS+=("$!"); AZURITE_PID=$!; AZURITE_PIDS+=("$!")
  wait_line "$RUN_DIR/azurite.log" "successfully started" "$AZURITE_PID" || { cat "$RUN_DIR/azurite.log" >&2; die "Azurite did not start"; }
  AZURITE_PORT="$port"
  STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$port/devstoreaccount1;"
  log "Azurite (tables)  http://127.0.0.1:$port  (store: $AZURITE_STORE)"
}

# The test vault from FuncKeyOps.Testing `serve` (its fake providers also start; they are not used here).
start_vault() {
  local parts="$RUN_DIR/vault.env"
  dotnet "$ROOT/tests/FuncKeyOps.Testing/bin/$CONFIG/$TFM/FuncKeyOps.Testing.dll" serve >"$parts" 2>"$RUN_DIR/vault.log" &
  PIDS+=("$!"); VAULT_PID=$!
  wait_line "$parts" '^READY$' "$VAULT_PID" 600 || { cat "$parts" "$RUN_DIR/vault.log" >&2; die "the test vault did not start"; }
  VAULT_URI="$(sed -n 's/^FKO_VAULT_URI=//p' "$parts")"
  VAULT_THUMBPRINT="$(sed -n 's/^FKO_VAULT_THUMBPRINT=//p' "$parts")"
  ADMIN_KEY="$(sed -n 's/^FKO_ADMIN_KEY=//p' "$parts")"
  log "test vault        $VAULT_URI"
}

# A relay host (log name, connection string, dll, extra VAR=value words) on the test vault; sets HOST_PID, HOST_URL.
start_server_host() {
  local name="$1" storage="$2" dll="$3" port
  shift 3
  port="$(free_port)"
  # Production as deployed, on the local test vault: its pinned certificate needs the explicit opt-in outside Development,
  # and the fake upstream on loopback is allowed as a provider key's endpoint only by the operator's host list.
  env ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning ProviderKeys__AllowedEndpointHosts__0=127.0.0.1 \
    Storage__ConnectionString="$storage" KeyVault__Uri="$VAULT_URI" KeyVault__Credential=Development \
    KeyVault__TrustedCertificateThumbprint="$VAULT_THUMBPRINT" KeyVault__AllowLocalVaultOutsideDevelopment=true "$@" \
    dotnet "$dll" --urls "http://127.0.0.1:$port" >"$RUN_DIR/$name.log" 2>&1 &
  PIDS+=("$!"); HOST_PID=$!
  wait_http "http://127.0.0.1:$port/api/health" "$HOST_PID" || { cat "$RUN_DIR/$name.log" >&2; die "the Server host ($name) did not become healthy"; }
  HOST_URL="http://127.0.0.1:$port"
}

start_server() {
  start_server_host server "$STORAGE_CONNECTION_STRING" "$SERVER_DLL" "${SERVER_ENV[@]}"
  SERVER_PID="$HOST_PID"; SERVER_URL="$HOST_URL"
  log "Server host       $SERVER_URL  ($CONFIG, Production, Warning logging${BENCH_SERVER_ENV:+, $BENCH_SERVER_ENV})"
}

# The relay with its storage "off the box": a second Server host whose Table endpoint is bench/TableSink, which
# acknowledges audit transactions (counting their rows) and forwards everything else to the same Azurite. It
# does all of its own audit work; Azurite's CPU per row (about 100 us of Node.js here) leaves the machine, as
# Table Storage's does in Azure.
start_offbox() {
  local port
  port="$(free_port)"
  Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production \
    dotnet "$ROOT/bench/TableSink/bin/$CONFIG/$TFM/TableSink.dll" --urls "http://127.0.0.1:$port" \
    --azurite "http://127.0.0.1:$AZURITE_PORT" >"$RUN_DIR/table-sink.log" 2>&1 &
  PIDS+=("$!"); SINK_PID=$!
  wait_line "$RUN_DIR/table-sink.log" '^READY$' "$SINK_PID" || { cat "$RUN_DIR/table-sink.log" >&2; die "the table sink did not start"; }
  SINK_URL="http://127.0.0.1:$port"
  start_server_host server-offbox "${STORAGE_CONNECTION_STRING%%TableEndpoint=*}TableEndpoint=$SINK_URL/devstoreaccount1;" \
    "$SERVER_DLL" "${SERVER_ENV[@]}"
  OFFBOX_PID="$HOST_PID"; OFFBOX_URL="$HOST_URL"
  log "Server host       $OFFBOX_URL  (storage off the box: table sink $SINK_URL in front of Azurite)"
}

# Audit rows the sink has acknowledged so far.
sink_rows() {
  curl -fs --max-time 5 "$SINK_URL/sink/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"])'
}

admin() { # method path [json]
  local out status
  out="$RUN_DIR/admin-response.json"
  status="$(curl -s -o "$out" -w '%{http_code}' -X "$1" "${ADMIN_BASE:-$SERVER_URL}/api/admin/$2" -H "x-fko-admin-key: $ADMIN_KEY" \
    -H 'Content-Type: application/json' ${3:+--data "$3"})"
  [[ "$status" == 2* ]] || { cat "$out" >&2; echo >&2; die "admin $1 $2 answered $status"; }
  cat "$out"
}

# Provider key (register, then stage and activate the value: activation validates it with the upstream's GET v1/models
# and gives it all routing weight) and a relay key without rpm or budget limits (quotas are checked but never refuse;
# audit is always on).
configure_relay() {
  admin PUT provider-keys/openai-bench \
    "{\"provider\":\"openai\",\"baseUrl\":\"$UPSTREAM_URL\",\"secretName\":\"openai-bench\"}" >/dev/null
  admin POST provider-keys/openai-bench/versions "{\"value\":\"$UPSTREAM_KEY\",\"activate\":true}" >/dev/null
  RELAY_KEY="$(admin POST relay-keys '{"tenant":"bench","name":"relay-bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
  rm -f "$RUN_DIR/admin-response.json"
  [[ "$RELAY_KEY" == fko_* ]] || die "no relay key was created"
  log "relay key created (tenant bench), provider key openai-bench -> fake upstream"
  [[ " $TARGETS " == *" relay-pool "* ]] && configure_pool
  return 0
}

# relay-pool: the same Server host, a relay key bound to a weighted pool of two provider keys (both against the one
# fake upstream, so only the relay's work differs from the relay target's: the pool's lookup and member selection).
configure_pool() {
  admin PUT provider-keys/openai-bench-2 \
    "{\"provider\":\"openai\",\"baseUrl\":\"$UPSTREAM_URL\",\"secretName\":\"openai-bench-2\"}" >/dev/null
  admin POST provider-keys/openai-bench-2/versions "{\"value\":\"$UPSTREAM_KEY\",\"activate\":true}" >/dev/null
  admin PUT pools/openai-bench-pool \
    '{"provider":"openai","mode":"weighted","members":[{"key":"openai-bench","weight":1},{"key":"openai-bench-2","weight":1}]}' >/dev/null
  RELAY_POOL_KEY="$(admin POST relay-keys '{"tenant":"bench","name":"relay-pool-bench","providerKeys":{"openai":"openai-bench-pool"}}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
  rm -f "$RUN_DIR/admin-response.json"
  [[ "$RELAY_POOL_KEY" == fko_* ]] || die "no relay key bound to the pool was created"
  log "relay key bound to pool openai-bench-pool (openai-bench, openai-bench-2, weighted 1:1) -> fake upstream"
}

start_bare() {
  local port
  port="$(free_port)"
  Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production \
    dotnet "$ROOT/bench/BareProxy/bin/$CONFIG/$TFM/BareProxy.dll" --urls "http://127.0.0.1:$port" \
    --upstream "$UPSTREAM_URL" --key "$UPSTREAM_KEY" >"$RUN_DIR/bare.log" 2>&1 &
  PIDS+=("$!"); BARE_PID=$!
  wait_http "http://127.0.0.1:$port/health" "$BARE_PID" || { cat "$RUN_DIR/bare.log" >&2; die "the bare proxy did not start"; }
  BARE_URL="http://127.0.0.1:$port"
  log "bare YARP proxy   $BARE_URL"
}

# `npx @portkey-ai/gateway` runs node_modules/.bin/gateway; it is run with node directly so that its pid is the
# server's (npx would sit in between) and with a preload that binds it to loopback (it has no host option).
start_portkey() {
  local port
  port="$(free_port)"
  (cd "$BENCH_DIR" && NODE_ENV=production exec node --require ./loopback.cjs node_modules/.bin/gateway --port="$port" --headless) \
    >"$RUN_DIR/portkey.log" 2>&1 &
  PIDS+=("$!"); PORTKEY_PID=$!
  wait_http "http://127.0.0.1:$port/" "$PORTKEY_PID" || { cat "$RUN_DIR/portkey.log" >&2; die "the Portkey gateway did not start"; }
  if ss -ltn 2>/dev/null | awk '{print $4}' | grep -Eq "^(0\.0\.0\.0|\*|\[::\]):$port$"; then
    die "the Portkey gateway is listening beyond loopback"
  fi
  PORTKEY_URL="http://127.0.0.1:$port"
  log "Portkey gateway   $PORTKEY_URL (@portkey-ai/gateway $(node -p 'require(process.argv[1]).version' "$BENCH_DIR/node_modules/@portkey-ai/gateway/package.json"))"
}

# ---------------------------------------------------------------- targets
# url|headers ("Name: value" joined with |)|pid of the process in between (none for direct)
target_url() {
  case "$1" in
    direct) echo "$UPSTREAM_URL/v1/chat/completions" ;;
    bare) echo "$BARE_URL/api/relay/openai/v1/chat/completions" ;;
    relay | relay-pool) echo "$SERVER_URL/api/relay/openai/v1/chat/completions" ;;
    relay-offbox) echo "$OFFBOX_URL/api/relay/openai/v1/chat/completions" ;;
    portkey) echo "$PORTKEY_URL/v1/chat/completions" ;;
  esac
}
target_headers() {
  case "$1" in
    direct) echo "Authorization: Bearer $UPSTREAM_KEY" ;;
    bare) echo "Authorization: Bearer client-key-ignored" ;;
    relay | relay-offbox) echo "Authorization: Bearer $RELAY_KEY" ;;
    relay-pool) echo "Authorization: Bearer $RELAY_POOL_KEY" ;;
    portkey) echo "x-portkey-provider: openai|x-portkey-custom-host: $UPSTREAM_URL/v1|Authorization: Bearer $UPSTREAM_KEY" ;;
  esac
}
target_pid() {
  case "$1" in
    direct) echo "" ;;
    bare) echo "$BARE_PID" ;;
    relay | relay-pool) echo "$SERVER_PID" ;;
    relay-offbox) echo "$OFFBOX_PID" ;;
    portkey) echo "$PORTKEY_PID" ;;
  esac
}

curl_headers() { # turns "A: b|C: d" into curl -H arguments, one per line
  local IFS='|' h
  for h in $1; do printf -- '-H\n%s\n' "$h"; done
}

# One non-streaming and one streaming call must succeed before a target is measured.
check_target() {
  local name="$1" url headers status out args=()
  url="$(target_url "$name")"; headers="$(target_headers "$name")"
  mapfile -t args < <(curl_headers "$headers")
  out="$RUN_DIR/check-$name.json"
  status="$(curl -s -o "$out" -w '%{http_code}' --max-time 10 -X POST "$url" "${args[@]}" -H 'Content-Type: application/json' \
    --data '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}]}')"
  [[ "$status" == 200 ]] && grep -q '"usage"' "$out" || { cat "$out" >&2; echo >&2; die "$name: a chat completion answered $status"; }
  status="$(curl -s -N -o "$out" -w '%{http_code}' --max-time 10 -X POST "$url" "${args[@]}" -H 'Content-Type: application/json' \
    --data '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello."}]}')"
  if [[ "$status" == 200 ]] && grep -q 'data: \[DONE\]' "$out"; then
    STREAMS[$name]=yes
  else
    STREAMS[$name]="no (HTTP $status: $(head -c 120 "$out" | tr '\n' ' '))"
    log "$name: streaming call failed (HTTP $status); its streaming figures are left out"
  fi
}

# Busy CPU time of the whole machine so far (ms): user, nice and system of every core. Interrupt and softirq time
# is left out: loopback TCP is handled there and belongs to no process.
machine_busy_ms() {
  awk -v tck="$(getconf CLK_TCK)" '/^cpu / {printf "%d\n", ($2 + $3 + $4) * 1000 / tck}' /proc/stat
}

# CPU of every process this script keeps running, plus the kernel's softirq threads (loopback TCP under load), in ms.
ours_cpu_ms() {
  local pid total=0
  for pid in "${PIDS[@]}" $(pgrep ksoftirqd || true); do total=$((total + $(cpu_ms "$pid"))); done
  echo "$total"
}

# wrk once, with the CPU each party used: "label conc RESULT-fields cpu-fields" appended to $RAW.
# foreign_pct is the share of the machine that processes not started here used meanwhile (another build, say):
# above a few percent, the run's numbers are disturbed.
wrk_once() {
  local label="$1" url="$2" headers="$3" pid="$4" conc="$5" threads line log
  local p0 p1 a0 a1 u0 u1 m0 m1 o0 o1 wrk_ms wall0 wall_ms foreign
  threads=$([[ $conc == 1 ]] && echo 1 || echo 2)
  log="$RUN_DIR/wrk-$label-c$conc.log"
  p0="$( [[ -n $pid ]] && cpu_ms "$pid" || echo 0)"; a0="$(cpu_ms "$AZURITE_PID")"; u0="$(cpu_ms "$UPSTREAM_PID")"
  m0="$(machine_busy_ms)"; o0="$(ours_cpu_ms)"; wall0="$(date +%s%N)"
  # `times` in the subshell reports its children's CPU: wrk's own.
  ( WRK_HEADERS="$headers" timeout 120 wrk -t"$threads" -c"$conc" -d"$DURATION" --timeout 5s -s "$BENCH_DIR/chat.lua" "$url" >"$log" 2>&1
    times | tail -1 >"$log.cpu" ) || { cat "$log" >&2; die "$label: wrk failed"; }
  wall_ms=$(( ($(date +%s%N) - wall0) / 1000000 ))
  p1="$( [[ -n $pid ]] && cpu_ms "$pid" || echo 0)"; a1="$(cpu_ms "$AZURITE_PID")"; u1="$(cpu_ms "$UPSTREAM_PID")"
  m1="$(machine_busy_ms)"; o1="$(ours_cpu_ms)"
  wrk_ms="$(awk '{ for (i = 1; i <= 2; i++) { split($i, t, "m"); sub("s", "", t[2]); ms += (t[1] * 60 + t[2]) * 1000 } } END {printf "%d", ms}' "$log.cpu")"
  foreign=$(( ((m1 - m0) - (o1 - o0) - wrk_ms) * 100 / ($(nproc) * wall_ms) ))
  (( foreign < 0 )) && foreign=0
  line="$(grep '^RESULT ' "$log" | sed 's/^RESULT //')" || die "$label: no RESULT from wrk"
  echo "$label $conc $line proxy_cpu_ms=$((p1 - p0)) azurite_cpu_ms=$((a1 - a0)) upstream_cpu_ms=$((u1 - u0)) wrk_cpu_ms=$wrk_ms foreign_pct=$foreign" >>"$RAW"
  log "$label c$conc: $line (other load on the machine: $foreign%)"
}

# Waits (at most BENCH_QUIET_MAX_S) until the process in between and Azurite are idle (under 5% of a core for 1 s), so work
# left over from one run (the relay's audit backlog) does not load the next. Prints the seconds it waited.
wait_quiet() {
  local pid="$1" start now before after quiet=0
  start="$(date +%s%N)"
  before=$(( $( [[ -n $pid ]] && cpu_ms "$pid" || echo 0) + $(cpu_ms "$AZURITE_PID") ))
  for _ in $(seq 1 $((QUIET_MAX_S * 2))); do
    sleep 0.5
    after=$(( $( [[ -n $pid ]] && cpu_ms "$pid" || echo 0) + $(cpu_ms "$AZURITE_PID") ))
    if (( after - before < 25 )); then quiet=$((quiet + 1)); else quiet=0; fi
    before=$after
    (( quiet >= 2 )) && break
  done
  now="$(date +%s%N)"
  awk -v ns="$((now - start))" 'BEGIN {printf "%.1f", ns / 1e9 - 1}'
}

# Rounds of $WARMUP at 32 connections until two in a row agree within WARMUP_TOLERANCE_PCT (at most WARMUP_ROUNDS):
# the relay's code keeps tiering up (JIT, PGO) for 20-40 s under load, so one fixed warm-up measured it half warm.
warm_up() {
  local label="$1" url="$2" headers="$3" round rps last=0 log="$RUN_DIR/wrk-$1-warmup.log"
  for ((round = 1; round <= WARMUP_ROUNDS; round++)); do
    WRK_HEADERS="$headers" timeout 120 wrk -t2 -c32 -d"$WARMUP" -s "$BENCH_DIR/chat.lua" "$url" >"$log" 2>&1 \
      || { cat "$log" >&2; die "$label: wrk warm-up failed"; }
    rps="$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$log")"
    log "$label: warm-up round $round: ${rps:-?} req/s at 32 connections"
    [[ -n "$rps" ]] || die "$label: no rate in the warm-up output"
    if ((last > 0 && (rps - last) * 100 <= last * WARMUP_TOLERANCE_PCT && (last - rps) * 100 <= last * WARMUP_TOLERANCE_PCT)); then
      return 0
    fi
    last="$rps"
  done
  log "$label: not steady after $WARMUP_ROUNDS warm-up rounds; measuring anyway"
}

# Warm-up, then 1 connection from a quiet machine.
warm_and_c1() {
  local label="$1" url="$2" headers="$3" pid="$4"
  warm_up "$label" "$url" "$headers"
  wait_quiet "$pid" >/dev/null
  wrk_once "$label" "$url" "$headers" "$pid" 1
  : >"$RUN_DIR/c32-$label.txt"
}

# One 32-connection run from a quiet machine, appended to .run/c32-<label>.txt with its round and drain_s: how long
# the process in between and Azurite stayed busy after it (the relay writing its audit backlog).
c32_once() {
  local label="$1" url="$2" headers="$3" pid="$4" round="$5" drain extra rows_before runs="$RUN_DIR/c32-$1.txt"
  wait_quiet "$pid" >/dev/null
  [[ "$label" == relay-offbox ]] && rows_before="$(sink_rows)"
  RAW="$runs" wrk_once "$label" "$url" "$headers" "$pid" 32
  extra="$( [[ -n "${AFTER_C32_HOOK:-}" ]] && "$AFTER_C32_HOOK" "$label" || true)"
  drain="$(wait_quiet "$pid")"
  # Every request of the run must have reached storage as an audit row once the host is idle again.
  [[ "$label" == relay-offbox ]] && extra="${extra:+$extra }sink_rows=$(($(sink_rows) - rows_before))"
  sed -i "\$s/\$/ round=$round drain_s=$drain${extra:+ $extra}/" "$runs"
  log "$label: busy for $drain s after 32-connection round $round of $REPEAT"
}

# The run with the median rate stands for the target in the table (all runs are in .run/c32-<target>.txt).
pick_median_c32() {
  awk '{ for (i = 3; i <= NF; i++) if ($i ~ /^rps=/) { split($i, v, "="); print v[2], $0 } }' "$RUN_DIR/c32-$1.txt" \
    | sort -k1,1g | awk -v n="$REPEAT" 'NR == int((n + 1) / 2) { $1 = ""; sub(/^ /, ""); print }' >>"$RAW"
}

# Warm-up, 1 connection, then REPEAT runs at 32 connections back to back: for a variant that runs alone.
run_wrk() {
  local r
  warm_and_c1 "$@"
  for ((r = 1; r <= REPEAT; r++)); do c32_once "$@" "$r"; done
  pick_median_c32 "$1"
}

# Sequential non-streaming calls timed one by one, without wrk's coordinated-omission correction.
run_raw_latency() {
  local name="$1" url headers line args=() h
  url="$(target_url "$name")"; headers="$(target_headers "$name")"
  local IFS='|'
  for h in $headers; do args+=(--header "$h"); done
  unset IFS
  timeout 180 dotnet "$ROOT/bench/StreamProbe/bin/$CONFIG/$TFM/StreamProbe.dll" --json --url "$url" "${args[@]}" \
    --count "$RAW_COUNT" --warmup 200 >"$RUN_DIR/raw-$name.log" 2>&1 \
    || { cat "$RUN_DIR/raw-$name.log" >&2; die "$name: latency probe failed"; }
  line="$(grep '^RESULT ' "$RUN_DIR/raw-$name.log" | sed 's/^RESULT //')"
  echo "$name raw $line" >>"$RAW"
  log "$name sequential: $line"
}

run_stream() {
  local name="$1" url headers line args=() h
  url="$(target_url "$name")"; headers="$(target_headers "$name")"
  local IFS='|'
  for h in $headers; do args+=(--header "$h"); done
  unset IFS
  timeout 180 dotnet "$ROOT/bench/StreamProbe/bin/$CONFIG/$TFM/StreamProbe.dll" --url "$url" "${args[@]}" \
    --count "$STREAM_COUNT" --warmup 5 --chunks "$CHUNKS" >"$RUN_DIR/stream-$name.log" 2>&1 \
    || { cat "$RUN_DIR/stream-$name.log" >&2; die "$name: stream probe failed"; }
  line="$(grep '^RESULT ' "$RUN_DIR/stream-$name.log" | sed 's/^RESULT //')"
  echo "$name stream $line" >>"$RAW"
  log "$name stream: $line"
}

# ---------------------------------------------------------------- summary
summarize() {
  python3 - "$RAW" "$STREAM_INFO" "$RUN_DIR" <<'PY'
import os, statistics, sys

raw, stream_info, run_dir = sys.argv[1], sys.argv[2], sys.argv[3]
rows = {}
for line in open(raw):
    parts = line.split()
    rows[(parts[0], parts[1])] = {k: float(v) for k, v in (p.split("=", 1) for p in parts[2:])}
streams = dict(l.rstrip("\n").split(" ", 1) for l in open(stream_info) if l.strip())

out = []
w = out.append
order = ["direct", "bare", "relay", "relay-pool", "relay-offbox", "portkey"]
names = {"direct": "direct upstream", "bare": "bare proxy (YARP)", "relay": "FuncKeyOps relay",
         "relay-pool": "relay, 2-key pool", "relay-offbox": "relay, storage off", "portkey": "Portkey gateway"}

def ms(us):
    return f"{us / 1000:.3f}"

w("Non-streaming chat completions (wrk; latency in ms; added = target minus direct at the same connections)")
w(f"{'target':<20}{'conns':>6}{'req/s':>10}{'p50':>9}{'p99':>9}{'+p50':>9}{'+p99':>9}{'cpu us/req':>12}{'errors':>8}{'other load':>12}")
for conc in ("1", "32"):
    base = rows.get(("direct", conc))
    for t in order:
        r = rows.get((t, conc))
        if not r:
            continue
        add50 = add99 = "-"
        if base and t != "direct":
            add50 = ms(r["p50_us"] - base["p50_us"])
            add99 = ms(r["p99_us"] - base["p99_us"])
        cpu = "-" if t == "direct" else f"{r['proxy_cpu_ms'] * 1000 / max(r['requests'], 1):.0f}"
        errors = int(r["non2xx"] + r["socket_errors"])
        w(f"{names[t]:<20}{conc:>6}{r['rps']:>10.0f}{ms(r['p50_us']):>9}{ms(r['p99_us']):>9}{add50:>9}{add99:>9}{cpu:>12}{errors:>8}{r['foreign_pct']:>11.0f}%")
if ("relay", "32") in rows and rows[("relay", "32")].get("drain_s", 0) > 1:
    r = rows[("relay", "32")]
    dur = r["requests"] / r["rps"]
    w(f"after the relay's 32-connection run it and Azurite stayed busy {r['drain_s']:.1f} s more (audit rows written late);"
      f" counting that time, the relay sustained at most {r['requests'] / (dur + r['drain_s']):.0f} req/s")
for conc in ("1", "32"):
    if ("relay", conc) in rows:
        r = rows[("relay", conc)]
        w(f"relay at {conc} connection(s) also cost Azurite (audit rows, usage flushes) {r['azurite_cpu_ms'] * 1000 / max(r['requests'], 1):.0f} us CPU per request")
if ("relay-offbox", "32") in rows and "sink_rows" in rows[("relay-offbox", "32")]:
    r = rows[("relay-offbox", "32")]
    w(f"relay, storage off: its 32-connection run sent {r['sink_rows']:.0f} audit rows for {r['requests']:.0f} requests"
      " (wrk counts only answers received in time; up to 32 more calls may have been in flight)")
if any(t == "relay-offbox" for t, _ in rows):
    w("relay, storage off: the same relay with Table Storage's side of audit rows off this machine (bench/TableSink")
    w("acknowledges transactions; all other storage calls reach Azurite); it still builds, sends and awaits every row")
w("cpu us/req: CPU time of the process in between (proxy or gateway) per request, from /proc; other load: share of the")
w("machine used by processes this script did not start during that run (above ~5%, treat the row as disturbed)")
noisy = [f"{t} c{c}" for (t, c), r in rows.items() if c != "stream" and r.get("foreign_pct", 0) > 5]
if noisy:
    w("WARNING: other processes loaded the machine during: " + ", ".join(noisy))
w("")

# 32-connection rates by round (.run/c32-<target>.txt): a ratio is taken between runs of the same round.
rounds = {}
for t in order:
    path = os.path.join(run_dir, f"c32-{t}.txt")
    if os.path.exists(path):
        for line in open(path):
            f = dict(p.split("=", 1) for p in line.split()[2:])
            rounds.setdefault(int(f["round"]), {})[t] = float(f["rps"])

def round_ratios(a, b):
    return [r[a] / r[b] for _, r in sorted(rounds.items()) if r.get(a) and r.get(b)]

def ratio(a, b, conc):
    if conc == "32" and round_ratios(a, b):
        return statistics.median(round_ratios(a, b))
    if (a, conc) in rows and (b, conc) in rows and rows[(b, conc)]["rps"] > 0:
        return rows[(a, conc)]["rps"] / rows[(b, conc)]["rps"]
    return None

if any(k[1] == "raw" for k in rows):
    w("Latency at 1 connection, each call timed as it happened (StreamProbe --json: sequential calls, no correction; ms)")
    w(f"{'target':<20}{'p50':>9}{'p90':>9}{'p99':>9}{'+p50':>9}{'+p99':>9}")
    rbase = rows.get(("direct", "raw"))
    for t in order:
        r = rows.get((t, "raw"))
        if not r:
            continue
        a50 = a99 = "-"
        if rbase and t != "direct":
            a50, a99 = ms(r["p50_us"] - rbase["p50_us"]), ms(r["p99_us"] - rbase["p99_us"])
        w(f"{names[t]:<20}{ms(r['p50_us']):>9}{ms(r['p90_us']):>9}{ms(r['p99_us']):>9}{a50:>9}{a99:>9}")
    w("(wrk corrects its latency histogram for coordinated omission: a slow response adds synthetic samples, so its")
    w(" p99, and at 1 connection its p50, weigh stalls more than these raw figures do)")
    w("")

w("Throughput ratios (32 connections: the median of the ratios within each round)")
for conc in ("1", "32"):
    rb, rp = ratio("relay", "bare", conc), ratio("relay", "portkey", conc)
    ro = ratio("relay-offbox", "bare", conc)
    rpool = ratio("relay-pool", "relay", conc)
    w(f"  {conc:>2} connections: relay/bare = {'-' if rb is None else f'{rb:.2f}'}   relay/portkey = {'-' if rp is None else f'{rp:.2f}'}"
      f"   relay (storage off)/bare = {'-' if ro is None else f'{ro:.2f}'}   pool/relay = {'-' if rpool is None else f'{rpool:.2f}'}")
if rounds:
    present = [t for t in order if any(t in r for r in rounds.values())]
    run_order = [t for t in ("direct", "bare", "portkey", "relay-offbox", "relay-pool", "relay") if t in present]  # as main() runs them
    w("  32 connections by round (req/s; each round runs every target once, in this order: "
      + ", ".join(names[t] for t in run_order) + "):")
    w("  " + f"{'round':<7}" + "".join(f"{names[t]:>20}" for t in present)
      + "".join(f"{h:>12}" for h, a, b in (("relay/bare", "relay", "bare"), ("off/bare", "relay-offbox", "bare"), ("pool/relay", "relay-pool", "relay")) if a in present and b in present))
    for n, r in sorted(rounds.items()):
        cells = "".join(f"{r[t]:>20.0f}" if t in r else f"{'-':>20}" for t in present)
        cells += "".join(f"{r[a] / r[b]:>12.2f}" if r.get(a) and r.get(b) else f"{'-':>12}"
                         for a, b in (("relay", "bare"), ("relay-offbox", "bare"), ("relay-pool", "relay")) if a in present and b in present)
        w(f"  {n:<7}{cells}")
w("")

w("Streaming (sequential requests, upstream sends chunks with a fixed delay; ms; added = target minus direct)")
w(f"{'target':<20}{'TTFB p50':>10}{'gap p50':>10}{'+TTFB p50':>11}{'+gap p50':>10}{'TTFB p90':>10}{'gap p90':>10}")
sbase = rows.get(("direct", "stream"))
for t in order:
    r = rows.get((t, "stream"))
    if not r:
        if t in streams and streams[t] != "yes":
            w(f"{names[t]:<20}  not measured: streaming {streams[t]}")
        continue
    at = ag = "-"
    if sbase and t != "direct":
        at = f"{r['ttfb_p50_ms'] - sbase['ttfb_p50_ms']:.3f}"
        ag = f"{r['gap_p50_ms'] - sbase['gap_p50_ms']:.3f}"
    w(f"{names[t]:<20}{r['ttfb_p50_ms']:>10.3f}{r['gap_p50_ms']:>10.3f}{at:>11}{ag:>10}{r['ttfb_p90_ms']:>10.3f}{r['gap_p90_ms']:>10.3f}")
w("")

w("Targets")
def verdict(ok):
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")
rb = ratio("relay", "bare", "32")
rp = ratio("relay", "portkey", "32")
add50 = None
if ("relay", "1") in rows and ("direct", "1") in rows:
    add50 = (rows[("relay", "1")]["p50_us"] - rows[("direct", "1")]["p50_us"]) / 1000
raw50 = None
if ("relay", "raw") in rows and ("direct", "raw") in rows:
    raw50 = (rows[("relay", "raw")]["p50_us"] - rows[("direct", "raw")]["p50_us"]) / 1000
ttfb = None
if ("relay", "stream") in rows and ("direct", "stream") in rows:
    ttfb = rows[("relay", "stream")]["ttfb_p50_ms"] - rows[("direct", "stream")]["ttfb_p50_ms"]
fmt = lambda v, f: "-" if v is None else f.format(v)
ro = ratio("relay-offbox", "bare", "32")
w(f"  {verdict(None if rb is None else rb >= 0.6)}  relay throughput >= 60% of bare proxy (32 conns, Azurite on these cores): {fmt(rb, '{:.0%}')}")
w(f"  {verdict(None if ro is None else ro >= 0.6)}  relay throughput >= 60% of bare proxy (32 conns, storage off the box): {fmt(ro, '{:.0%}')}")
w(f"  {verdict(None if rp is None else rp >= 5)}  relay throughput >= 5x Portkey (32 conns): {fmt(rp, '{:.2f}x')}")
rpool = ratio("relay-pool", "relay", "32")
w(f"  {verdict(None if rpool is None else rpool >= 0.95)}  relay bound to a 2-key pool >= 95% of the single-key relay (32 conns, same round): {fmt(rpool, '{:.0%}')}")
w(f"  {verdict(None if add50 is None else add50 < 0.5)}  relay p50 added latency < 0.5 ms (1 conn, wrk): {fmt(add50, '{:.3f} ms')}"
  + ("" if raw50 is None else f" (sequential probe, uncorrected: {raw50:.3f} ms)"))
w(f"  {verdict(None if ttfb is None else ttfb < 1)}  relay streaming TTFB added < 1 ms (p50): {fmt(ttfb, '{:.3f} ms')}")
print("\n".join(out))
PY
}

# Writes what a person needs to drive the targets by hand, then waits.
serve() {
  local env="$RUN_DIR/targets.env" t v
  {
    echo "UPSTREAM_KEY=$UPSTREAM_KEY"
    echo "RELAY_KEY=$RELAY_KEY"
    echo "ADMIN_KEY=$ADMIN_KEY"
    echo "SERVER_URL=$SERVER_URL"
    echo "AZURITE_PID=$AZURITE_PID"
    echo "UPSTREAM_PID=$UPSTREAM_PID"
    echo "VAULT_PID=$VAULT_PID"
    for t in $TARGETS; do
      v="${t^^}"; v="${v//-/_}"   # relay-offbox -> RELAY_OFFBOX
      echo "${v}_URL=$(target_url "$t")"
      echo "${v}_HEADERS='$(target_headers "$t")'"
      echo "${v}_PID=$(target_pid "$t")"
    done
  } >"$env"
  log "serving; targets in ${env#"$ROOT/"} (e.g. WRK_HEADERS=\"\$RELAY_HEADERS\" wrk -s bench/relay/chat.lua \$RELAY_URL); Ctrl-C stops"
  sleep "${BENCH_SERVE_SECONDS:-1800}" &
  PIDS+=("$!")
  wait "$!" || true
}

# ---------------------------------------------------------------- ablation
# A variant is "name" or "name+VAR=value+VAR=value": bench/RelayVariants with BENCH_RELAY_VARIANT=name and the
# extra environment. Each gets an Azurite of its own (so no variant inherits another's audit rows: Azurite's cost
# per row grows with the table) and is configured through its own admin API; the vault is shared.
ABLATION="${BENCH_ABLATION:-full no-audit full+Audit__Linger=00:00:00 no-quota full+ProviderKeys__CacheTtl=01:00:00+RelayKeys__CacheTtl=01:00:00 full+DOTNET_gcServer=0}"

stop_pid() {
  local pid="$1" keep=() p
  kill "-$(stop_signal "$pid")" "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [[ "$p" == "$pid" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

run_variant() {
  local spec="$1" name extra=() pid url
  name="${spec%%+*}"
  [[ "$spec" == *+* ]] && IFS='+' read -r -a extra <<<"${spec#*+}"
  local main_azurite="$AZURITE_PID" main_port="$AZURITE_PORT" main_storage="$STORAGE_CONNECTION_STRING" main_key="$RELAY_KEY" azurite
  start_azurite
  azurite="$AZURITE_PID"
  start_server_host "variant-$spec" "$STORAGE_CONNECTION_STRING" "$ROOT/bench/RelayVariants/bin/$CONFIG/$TFM/RelayVariants.dll" \
    BENCH_RELAY_VARIANT="$name" "${extra[@]}"
  pid="$HOST_PID"
  ADMIN_BASE="$HOST_URL" configure_relay
  url="$HOST_URL/api/relay/openai/v1/chat/completions"
  curl -fs -o /dev/null --max-time 10 -X POST "$url" -H "Authorization: Bearer $RELAY_KEY" -H 'Content-Type: application/json' \
    --data '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}]}' || die "variant $spec: a chat completion failed"
  VARIANT_URL="$HOST_URL"
  AFTER_C32_HOOK=variant_audit_state run_wrk "variant:$spec" "$url" "Authorization: Bearer $RELAY_KEY" "$pid"
  stop_pid "$pid"
  stop_pid "$azurite"
  AZURITE_PID="$main_azurite" AZURITE_PORT="$main_port" STORAGE_CONNECTION_STRING="$main_storage" RELAY_KEY="$main_key"
}

# The variant host's audit writer right after the 32-connection run: rows accepted but not yet stored, and dropped.
variant_audit_state() {
  curl -fs --max-time 5 "$VARIANT_URL/bench/audit" || true
}

summarize_ablation() {
  python3 - "$RAW" <<'PY'
import sys
rows = {}
order = []
for line in open(sys.argv[1]):
    parts = line.split()
    if parts[0] not in order:
        order.append(parts[0])
    rows[(parts[0], parts[1])] = {k: float(v) for k, v in (p.split("=", 1) for p in parts[2:])}
d1, d32 = rows.get(("direct", "1")), rows.get(("direct", "32"))
print("Ablation: non-streaming, wrk 1 and 32 connections; latency ms; +p50 over direct; cpu = microseconds of CPU per request")
print(f"{'variant':<34}{'c1 req/s':>9}{'c1 p50':>8}{'c1 +p50':>8}{'c32 req/s':>10}{'c32 p50':>8}{'c32 p99':>9}{'cpu c1':>7}{'cpu c32':>8}{'azurite':>8}{'drain s':>8}{'pending':>8}{'dropped':>8}{'other':>6}")
for label in order:
    a, b = rows.get((label, "1")), rows.get((label, "32"))
    if not a or not b:
        continue
    per = lambda r, k: r[k] * 1000 / max(r["requests"], 1)
    add = (a["p50_us"] - d1["p50_us"]) / 1000 if d1 and label != "direct" else 0
    cpu1 = "-" if label == "direct" else f"{per(a, 'proxy_cpu_ms'):.0f}"
    cpu32 = "-" if label == "direct" else f"{per(b, 'proxy_cpu_ms'):.0f}"
    other = max(a["foreign_pct"], b["foreign_pct"])
    pending = f"{b['audit_pending']:.0f}" if "audit_pending" in b else "-"
    dropped = f"{b['audit_dropped']:.0f}" if "audit_dropped" in b else "-"
    print(f"{label:<34}{a['rps']:>9.0f}{a['p50_us'] / 1000:>8.3f}{add:>8.3f}{b['rps']:>10.0f}{b['p50_us'] / 1000:>8.3f}{b['p99_us'] / 1000:>9.3f}{cpu1:>7}{cpu32:>8}{per(b, 'azurite_cpu_ms'):>8.0f}{b.get('drain_s', 0):>8.1f}{pending:>8}{dropped:>8}{other:>5.0f}%")
print("cpu: us of CPU per request in the relay process (c1, c32); azurite: us of Azurite CPU per request at c32;")
print("drain s: how long the relay and Azurite stayed busy after the c32 run; pending/dropped: audit rows the variant")
print("host held unwritten / had dropped when the c32 run ended (variants only); other: load from processes not ours")
PY
}

ablation() {
  local spec
  run_wrk direct "$(target_url direct)" "$(target_headers direct)" ""
  run_wrk bare "$(target_url bare)" "$(target_headers bare)" "$BARE_PID"
  # The Server host is not loaded here (variant `full` is the same app): an audit backlog it would still be
  # writing would load the variants' runs. Variants run one at a time, each stopped before the next.
  for spec in $ABLATION; do run_variant "$spec"; done
  {
    echo "FuncKeyOps relay ablation  $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "wrk: $DURATION per run after warm-up rounds of $WARMUP at 32 connections until two agree within $WARMUP_TOLERANCE_PCT% (at most $WARMUP_ROUNDS), 32 connections the median of $REPEAT runs; 'variant:X' is bench/RelayVariants: the Server host's composition root with one stage swapped, a fresh Azurite each"
    echo
    summarize_ablation
  } | tee "$BENCH_DIR/ablation.txt"
}

# ---------------------------------------------------------------- main
main() {
  case "${1:-}" in
    "" | serve | ablation) ;;
    *) echo "usage: bench/relay/run.sh [serve | ablation]" >&2; exit 2 ;;
  esac
  rm -rf "$RUN_DIR"
  mkdir -p "$RUN_DIR"
  RAW="$RUN_DIR/raw.txt"; STREAM_INFO="$RUN_DIR/streams.txt"
  : >"$RAW"; : >"$STREAM_INFO"
  declare -gA STREAMS=()
  local started=$SECONDS

  ensure_tools
  build
  local bench_started=$SECONDS
  start_upstream
  start_azurite
  start_vault
  start_server
  configure_relay
  start_bare
  [[ "${1:-}" == ablation ]] && TARGETS="direct bare"
  [[ " $TARGETS " == *" portkey "* ]] && start_portkey
  [[ " $TARGETS " == *" relay-offbox "* ]] && start_offbox

  local t
  for t in $TARGETS; do check_target "$t"; echo "$t ${STREAMS[$t]}" >>"$STREAM_INFO"; done
  if [[ "${1:-}" == serve ]]; then
    serve
    return
  fi
  if [[ "${1:-}" == ablation ]]; then
    ablation
    log "took $((SECONDS - started)) s"
    return
  fi
  # Sequential phases first: they write few audit rows. Then wrk, the relay last, because after a run at 32
  # connections it keeps writing its audit backlog to Azurite (on these same cores) for a while.
  # Warm every target first (JIT tiering, connection pools): the sequential phases are short.
  for t in $TARGETS; do
    log "$t: warm-up 3s at 32 connections"
    WRK_HEADERS="$(target_headers "$t")" timeout 120 wrk -t2 -c32 -d3s -s "$BENCH_DIR/chat.lua" "$(target_url "$t")" \
      >"$RUN_DIR/wrk-$t-warmup0.log" 2>&1 || { cat "$RUN_DIR/wrk-$t-warmup0.log" >&2; die "$t: wrk warm-up failed"; }
    wait_quiet "$(target_pid "$t")" >/dev/null
  done
  log "sequential non-streaming: $RAW_COUNT calls per target, timed one by one"
  for t in $TARGETS; do run_raw_latency "$t"; done
  log "streaming: $STREAM_COUNT sequential requests per target, $CHUNKS chunks ${CHUNK_DELAY_MS} ms apart"
  for t in $TARGETS; do
    [[ "${STREAMS[$t]}" == yes ]] && run_stream "$t"
  done
  local wrk_order=() name
  for name in direct bare portkey relay-offbox relay-pool relay; do [[ " $TARGETS " == *" $name "* ]] && wrk_order+=("$name"); done
  for t in "${wrk_order[@]}"; do
    wait_quiet "$(target_pid "$t")" >/dev/null
    warm_and_c1 "$t" "$(target_url "$t")" "$(target_headers "$t")" "$(target_pid "$t")"
  done
  # 32 connections in rounds, every target once per round: this machine's speed drifts by 20-30 % over minutes of
  # load (a fixed sha256 job and the bare proxy's CPU per request both show it), so targets run minutes apart
  # compare the machine, not the proxies. Ratios are taken within a round; their median counts.
  local r
  for ((r = 1; r <= REPEAT; r++)); do
    for t in "${wrk_order[@]}"; do c32_once "$t" "$(target_url "$t")" "$(target_headers "$t")" "$(target_pid "$t")" "$r"; done
  done
  for t in "${wrk_order[@]}"; do pick_median_c32 "$t"; done

  {
    echo "FuncKeyOps relay benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); dotnet $(dotnet --version); node $(node --version); $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
    echo "wrk: $DURATION per run after warm-up rounds of $WARMUP at 32 connections until two agree within $WARMUP_TOLERANCE_PCT% (at most $WARMUP_ROUNDS), -t1 -c1, then -t2 -c32 in $REPEAT rounds of every target (table: each target's median run; ratios: the median of the ratios within a round), non-streaming POST /v1/chat/completions"
    echo "everything on 127.0.0.1 on the same $(nproc) cores: load generator, upstream, proxy, Azurite and the vault share them"
    [[ -n "${BENCH_SERVER_ENV:-}" ]] && echo "Server host extra environment: $BENCH_SERVER_ENV"
    echo
    summarize
  } | tee "$RESULTS"
  log "results written to ${RESULTS#"$ROOT/"}; logs in ${RUN_DIR#"$ROOT/"}; took $((SECONDS - started)) s ($((SECONDS - bench_started)) s after the build)"
}

main "$@"
