#!/usr/bin/env bash
# Post-deploy gate: wait until the service is healthy (bounded), run the smoke tier, fail on any failure.
#
# Call it from the deploy script right after `docker compose up -d` (and the migrations), in the ops
# repository (the folder `opsverify init` made, with targets/ and checks/) or any folder below it:
#
#     ci/deploy-gate.sh --target prod --health-url https://api.example.com/healthz --wait 2m
#
# Options (each also settable by the environment variable on the right):
#   --target NAME|PATH   target file; repeat for several                       OPSVERIFY_TARGET (a,b)
#   --health-url URL     poll until it answers 2xx (after redirects); repeat   GATE_HEALTH_URL (space-separated)
#   --wait DURATION      how long to wait for health: 90, 90s, 2m, 1h          GATE_WAIT (default 120s)
#   --interval DURATION  pause between polls                                   GATE_INTERVAL (default 2s)
#   --tiers EXPR         pytest -m expression                                  GATE_TIERS (default smoke)
#   --python PATH        interpreter that has opsverify installed (it runs     PYTHON (default: the opsverify
#                        `PATH -m opsverify run` and the health polls)                 command, .venv/bin/opsverify
#                                                                                      or on PATH)
#   -- ARGS...           passed on to pytest unchanged (e.g. -- -n 4 --junitxml=out.xml)
#
# The checks run as `opsverify run TIERS --target NAME ... -- ARGS` (the pytest command it runs is shown
# first; `opsverify run smoke --target prod --print` prints it without running).
#
# Without --health-url the gate runs the smoke tier at once and relies on the target's own
# `wait_until_ready:` on its http checks to wait for the service.
#
# Exit codes: 0 healthy and every check passed; 1 a check failed; 4 a target is unknown or invalid;
# 5 the tier selected no checks; 64 wrong usage of this script; 69 not healthy within --wait.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

die_usage() {
    echo "deploy-gate: $1" >&2
    echo "usage: $0 --target NAME [--health-url URL] [--wait 120s] [--tiers smoke] [-- PYTEST ARGS]" >&2
    exit 64
}

# "90", "90s", "2m", "1h" -> seconds
to_seconds() {
    if [[ ! "$1" =~ ^([0-9]+)([smh]?)$ ]]; then
        die_usage "expected a duration like 90, 90s, 2m or 1h, got '$1'"
    fi
    local number=$((10#${BASH_REMATCH[1]}))
    case "${BASH_REMATCH[2]}" in
        m) echo $((number * 60)) ;;
        h) echo $((number * 3600)) ;;
        *) echo "$number" ;;
    esac
}

targets=()
if [[ -n "${OPSVERIFY_TARGET:-}" ]]; then
    IFS=',' read -r -a targets <<<"$OPSVERIFY_TARGET"
fi
health_urls=()
if [[ -n "${GATE_HEALTH_URL:-}" ]]; then
    read -r -a health_urls <<<"$GATE_HEALTH_URL"
fi
wait_for=${GATE_WAIT:-120s}
interval=${GATE_INTERVAL:-2s}
tiers=${GATE_TIERS:-smoke}
python=${PYTHON:-}

from_args_targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --target) [[ $# -ge 2 ]] || die_usage "--target needs a value"; from_args_targets+=("$2"); shift 2 ;;
        --target=*) from_args_targets+=("${1#*=}"); shift ;;
        --health-url) [[ $# -ge 2 ]] || die_usage "--health-url needs a value"; health_urls+=("$2"); shift 2 ;;
        --health-url=*) health_urls+=("${1#*=}"); shift ;;
        --wait) [[ $# -ge 2 ]] || die_usage "--wait needs a value"; wait_for=$2; shift 2 ;;
        --wait=*) wait_for=${1#*=}; shift ;;
        --interval) [[ $# -ge 2 ]] || die_usage "--interval needs a value"; interval=$2; shift 2 ;;
        --interval=*) interval=${1#*=}; shift ;;
        --tiers) [[ $# -ge 2 ]] || die_usage "--tiers needs a value"; tiers=$2; shift 2 ;;
        --tiers=*) tiers=${1#*=}; shift ;;
        --python) [[ $# -ge 2 ]] || die_usage "--python needs a value"; python=$2; shift 2 ;;
        --python=*) python=${1#*=}; shift ;;
        -h | --help) usage; exit 0 ;;
        --) shift; break ;;
        *) die_usage "unknown option '$1'" ;;
    esac
done
if [[ ${#from_args_targets[@]} -gt 0 ]]; then
    targets=("${from_args_targets[@]}")
fi
[[ ${#targets[@]} -gt 0 ]] || die_usage "no target: pass --target NAME (a file in targets/) or set OPSVERIFY_TARGET"

wait_seconds=$(to_seconds "$wait_for")
interval_seconds=$(to_seconds "$interval")
[[ "$interval_seconds" -ge 1 ]] || interval_seconds=1
if [[ -n "$python" ]]; then
    command -v "$python" >/dev/null 2>&1 || die_usage "python interpreter '$python' not found; pass --python PATH"
    opsverify=("$python" -m opsverify)
else
    if [[ -x .venv/bin/opsverify ]]; then
        opsverify=(.venv/bin/opsverify)
    elif command -v opsverify >/dev/null 2>&1; then
        opsverify=(opsverify)
    else
        die_usage "the opsverify command is not installed: pipx install opsverify (or pip install opsverify), or pass --python PATH of an interpreter that has it"
    fi
    if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; else python=python3; fi
    command -v "$python" >/dev/null 2>&1 || die_usage "python3 not found for the health polls; pass --python PATH"
fi

# Prints "HTTP 200" or the reason it failed; exits 0 only for a 2xx answer.
probe() {
    "$python" - "$1" "$2" <<'PY'
import sys
import urllib.error
import urllib.request

url, timeout = sys.argv[1], float(sys.argv[2])
try:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        print(f"HTTP {response.status}")
        sys.exit(0 if 200 <= response.status < 300 else 1)
except urllib.error.HTTPError as error:
    print(f"HTTP {error.code}")
except Exception as error:  # connection refused, DNS, TLS, timeout: all mean "not ready yet"
    print(f"{type(error).__name__}: {getattr(error, 'reason', error)}")
sys.exit(1)
PY
}

wait_healthy() {
    local url=$1 started=$SECONDS last="" result elapsed remaining
    echo "deploy-gate: waiting up to ${wait_seconds}s for $url"
    while true; do
        elapsed=$((SECONDS - started))
        remaining=$((wait_seconds - elapsed))
        if result=$(probe "$url" "$((remaining < 5 ? (remaining < 1 ? 1 : remaining) : 5))"); then
            echo "deploy-gate: $url is healthy ($result) after ${elapsed}s"
            return 0
        fi
        if [[ "$result" != "$last" ]]; then
            echo "deploy-gate:   not ready after ${elapsed}s: $result"
            last=$result
        fi
        if (((SECONDS - started) + interval_seconds > wait_seconds)); then
            echo "deploy-gate: FAILED: $url did not become healthy within ${wait_seconds}s (last: $result)" >&2
            return 1
        fi
        sleep "$interval_seconds"
    done
}

if [[ ${#health_urls[@]} -eq 0 ]]; then
    echo "deploy-gate: no --health-url; the target's wait_until_ready settings decide how long checks wait"
fi
for url in "${health_urls[@]}"; do
    wait_healthy "$url" || exit 69
done

command=("${opsverify[@]}" run "$tiers")
for target in "${targets[@]}"; do
    command+=(--target "$target")
done
if [[ $# -gt 0 ]]; then
    command+=(-- "$@")
fi
echo "deploy-gate: running ${command[*]}"
status=0
"${command[@]}" || status=$?
case $status in
    0) echo "deploy-gate: PASSED: every '$tiers' check passed" ;;
    1) echo "deploy-gate: FAILED: a '$tiers' check failed (see above; reports in ${OPSVERIFY_REPORTS_DIR:-reports}/)" >&2 ;;
    4) echo "deploy-gate: FAILED: a target file is unknown or invalid (see above)" >&2 ;;
    5) echo "deploy-gate: FAILED: '$tiers' selected no checks in ${targets[*]}: the gate would check nothing" >&2 ;;
    *) echo "deploy-gate: FAILED: pytest exited $status" >&2 ;;
esac
exit "$status"
