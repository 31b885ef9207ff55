#!/usr/bin/env bash
# test.sh — what `make test` does: start the local stack (profile `test`, its own
# ports and folders, so a running `make run` is not disturbed), build the
# executables and the tests, run the tests against the real broker and
# database, and always stop the stack again.
#
#   make test                         # phases 1 to 5 (below)
#   make test ARGS="--filter Foo"     # only: swift test --skip-build --filter Foo
#   CONVENE_TEST_FRESH=0 make test    # keep the test stack's data from the previous run
#
# Five phases: BrokerRestartTests stops and restarts the broker (through
# $CONVENE_TEST_BROKER_CTL) and must not run alongside other suites; StackTests starts
# all seven executables, CapacityLoadTests floods the registration queue and TimerCrashTests
# floods every queue bound to scheduling.reminder_due: each runs alone.
set -Eeuo pipefail
# shellcheck source=compose/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap_err
LOG_TAG="test"

SWIFT="${SWIFT:-swift}"     # another toolchain: SWIFT=/path/to/swift make test

# Adjust here when suites move around. The whole-stack test (seven more processes) and the
# registration load test (a thousand events every listening suite would have to wade through)
# run last, so that they do not crowd the others on a small machine.
PHASE1=("$SWIFT" test --skip-build --skip BrokerRestartTests --skip StackTests --skip CapacityLoadTests --skip TimerCrashTests)
PHASE2=("$SWIFT" test --skip-build --filter BrokerRestartTests)
PHASE3=("$SWIFT" test --skip-build --filter StackTests)
# Alone too: its registrations fill the registration queue, so another suite's pings would wait.
PHASE4=("$SWIFT" test --skip-build --filter CapacityLoadTests)
# Alone as well: 2,000 scheduling.reminder_due events reach every queue bound to them (the
# listening notification suites' among them), whose requests would then time out behind them.
PHASE5=("$SWIFT" test --skip-build --filter TimerCrashTests)

ROOT="$CONVENE_ROOT"
STACK="$ROOT/compose/local/stack.sh"
cd "$ROOT"

# Always take the stack down again, whatever happened, and keep the exit status.
on_exit() {
    local status=$?
    trap '' INT TERM
    bash "$STACK" down test || log "WARNING: stack.sh down test failed"
    print_failures
    exit "$status"
}
# Each phase's output is also kept here; on failure the failing tests are repeated
# last, so they are what a CI log's tail shows.
PHASE_LOGS="$ROOT/.local/test/phases"
print_failures() {
    [[ -d "$PHASE_LOGS" ]] || return 0
    local failures
    failures="$(grep -h -E '^(✘|error:)' "$PHASE_LOGS"/*.log 2>/dev/null | grep -v '^✘ Suite' | head -n 12 | cut -c1-400 || true)"
    [[ -n "$failures" ]] || return 0
    log "failing tests (first 12 lines; whole output in $PHASE_LOGS):"
    printf '%s\n' "$failures" >&2
}
trap on_exit EXIT
# Ctrl-C: swift test gets it too; we only make sure the EXIT trap runs.
trap 'exit 130' INT
trap 'exit 143' TERM

# Every run starts from an empty broker and database, so queues and schemas that earlier runs'
# tests created do not pile up (and slow the broker restart of phase 2). CONVENE_TEST_FRESH=0
# keeps the previous run's data, e.g. to inspect it.
if [[ "${CONVENE_TEST_FRESH:-1}" == 1 ]]; then
    bash "$STACK" clean test
fi
# The stack first: on a fresh machine it also installs the -dev packages the
# build needs.
bash "$STACK" up test
# The compose file is validated by a test; docker-compose without the engine it recommends.
if ! command -v docker-compose >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 ]]; then
        log "installing docker-compose (--no-install-recommends) for the compose-file test"
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends docker-compose >/dev/null
    else
        log "WARNING: docker-compose is missing and this is not root; the compose-file test will fail"
    fi
fi
# shellcheck disable=SC1090,SC1091  # written by stack.sh up
. "$ROOT/.local/test/env"

# The contract server's own tests first (a few seconds, no build): the Swift tests
# rely on its checks (signatures, rate limits, answer shapes) being right.
t0=$(now_ms)
log "contract server tests: /usr/bin/python3 -m unittest discover -s compose/local/contracts"
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m unittest discover -q -s "$ROOT/compose/local/contracts" \
    || die "contract server tests failed (compose/local/contracts/test_contracts.py)"
log "contract server tests: ok ($(since "$t0"))"

t0=$(now_ms)
log "building executables and tests"
"$SWIFT" build --build-tests

# What the tests need to find the stack and the executables they start.
export CONVENE_REPO_ROOT="$ROOT"
CONVENE_BIN_DIR="$("$SWIFT" build --show-bin-path)"
export CONVENE_BIN_DIR
export CONVENE_TEST_BROKER_CTL="$STACK"       # "$CONVENE_TEST_BROKER_CTL" broker-stop|broker-start "$CONVENE_TEST_PROFILE"
export CONVENE_TEST_PROFILE=test
export CONVENE_TEST_OPS_PORT_BASE=39200       # services started by tests use base+0 … base+6
export CONVENE_TEST_GATEWAY_PORT=38080
log "built in $(since "$t0"); bin dir $CONVENE_BIN_DIR"

rm -rf "$PHASE_LOGS"

# Run one phase; never let set -e end the script before the summary.
run_phase() {
    local label="$1"; shift
    local t0 status=0
    t0=$(now_ms)
    log "$label: $*"
    mkdir -p "$PHASE_LOGS"
    "$@" 2>&1 | tee "$PHASE_LOGS/${label// /-}.log" || status=$?
    log "$label: exit $status after $(since "$t0")"
    return "$status"
}
verdict() { if (( $1 == 0 )); then echo ok; else echo "FAILED (exit $1)"; fi; }

if (( $# > 0 )); then
    status=0
    run_phase "tests" "$SWIFT" test --skip-build "$@" || status=$?
    log "tests ($*): $(verdict "$status")"
    exit "$status"
fi

s1=0 s2=0 s3=0 s4=0 s5=0
run_phase "phase 1" "${PHASE1[@]}" || s1=$?
run_phase "phase 2" "${PHASE2[@]}" || s2=$?
run_phase "phase 3" "${PHASE3[@]}" || s3=$?
run_phase "phase 4" "${PHASE4[@]}" || s4=$?
run_phase "phase 5" "${PHASE5[@]}" || s5=$?
log "phase 1: $(verdict "$s1"), phase 2: $(verdict "$s2"), phase 3: $(verdict "$s3"), phase 4: $(verdict "$s4"), phase 5: $(verdict "$s5")"
(( s1 == 0 && s2 == 0 && s3 == 0 && s4 == 0 && s5 == 0 )) || exit 1
