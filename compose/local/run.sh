#!/usr/bin/env bash
# run.sh — what `make run` does: start the local stack (profile `run`), build,
# start all seven services against it, stream their logs, and stop everything
# again on Ctrl-C / SIGTERM.
#
#   CONFIGURATION=release make run     # optimised build (default: debug, faster to build)
#   GATEWAY_PORT=8081 make run         # if 8080 is taken
#
# Logs: .local/run/logs/<service>.log (the previous run's in <service>.log.1).
set -Eeuo pipefail
# shellcheck source=compose/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap_err
LOG_TAG="run"

ROOT="$CONVENE_ROOT"
STACK="$ROOT/compose/local/stack.sh"
DIR="$ROOT/.local/run"
LOG_DIR="$DIR/logs"
PID_DIR="$DIR/pids"
BLOB_DIR="$DIR/blobs"
RUN_PID_FILE="$DIR/run.pid"     # this script's own pid: one `make run` at a time

CONFIGURATION="${CONFIGURATION:-debug}"
SWIFT="${SWIFT:-swift}"     # another toolchain: SWIFT=/path/to/swift make run
GATEWAY_PORT="${GATEWAY_PORT:-8080}"
HEALTH_TIMEOUT=60     # seconds for the gateway to answer /health
STOP_GRACE=15         # seconds the services get to finish after SIGTERM

# Executable name → ops port (metrics / health). The test profile uses 39200+.
SERVICES=(gateway registration payment scheduling platform-bridge notification archive)
declare -A OPS_PORT=(
    [gateway]=39100 [registration]=39101 [payment]=39102 [scheduling]=39103
    [platform-bridge]=39104 [notification]=39105 [archive]=39106
)

case "$CONFIGURATION" in
    debug|release) ;;
    *) die "CONFIGURATION must be debug or release (got '$CONFIGURATION')" ;;
esac
[[ "$GATEWAY_PORT" =~ ^[0-9]+$ ]] || die "GATEWAY_PORT must be a number (got '$GATEWAY_PORT')"

cd "$ROOT"

# ---------------------------------------------------------------------------
# Processes we start: a pid file per service holding "pid" and, on line 2, the
# executable path it was started as, so that we only ever signal *our* process
# (a stale pid file from a crashed run may name a pid reused by something else).
# ---------------------------------------------------------------------------

declare -A PIDS=()       # service → pid, for this run
TAIL_PIDS=()

service_pid_alive() {   # service → pid printed if its pid file names a live process of ours
    local file="$PID_DIR/$1.pid" pid exe
    [[ -s "$file" ]] || return 1
    pid="$(read_pid "$file")"
    exe="$(sed -n 2p "$file")"
    [[ -n "$exe" ]] && pid_matches "$pid" "$exe" || return 1
    printf '%s' "$pid"
}

# A previous run that was killed hard (SIGKILL, closed terminal, crash of this
# script) can leave services running: they would hold the ports. Stop them.
stop_leftovers() {
    local name pid
    [[ -d "$PID_DIR" ]] || return 0
    for name in "${SERVICES[@]}"; do
        if pid="$(service_pid_alive "$name")"; then
            log "stopping $name (pid $pid) left over from a previous run"
            terminate_pid "$pid" "$STOP_GRACE"
        fi
        rm -f "$PID_DIR/$name.pid"
    done
}

check_ports_free() {
    local name
    if port_in_use "$GATEWAY_PORT"; then
        die "port $GATEWAY_PORT is already in use, so the gateway cannot listen there.
  Stop whatever holds it ('ss -ltnp sport = :$GATEWAY_PORT' shows who), or pick another port:
    GATEWAY_PORT=8081 make run"
    fi
    for name in "${SERVICES[@]}"; do
        port_in_use "${OPS_PORT[$name]}" \
            && die "ops port ${OPS_PORT[$name]} (for $name) is already in use; is another 'make run' running?"
    done
    return 0
}

start_service() {
    local name="$1" role var log="$LOG_DIR/$1.log" pid
    role="${name//-/_}"
    var="${role^^}_DATABASE_URL"
    [[ -x "$BIN_DIR/$name" ]] || die "no executable $BIN_DIR/$name (did the build produce it?)"

    [[ -f "$log" ]] && mv -f "$log" "$log.1"
    : >"$log"

    # The service inherits this environment (so LOG_LEVEL=debug make run, or any
    # other setting, reaches it) minus what the env file added for operators
    # and tests: each service sees only its own database URL, not the other
    # roles' passwords nor the superuser URL.
    # setsid: its own session, so Ctrl-C in this terminal reaches only this
    # script, which then stops the services with SIGTERM.
    local -a env=(
        "${HIDE_FROM_SERVICES[@]}"
        "AMQP_URL=$AMQP_URL"
        "DATABASE_URL=${!var}"
        "OPS_PORT=${OPS_PORT[$name]}"
        "SMTP_URL=$SMTP_URL"
        "BLOB_DIR=$BLOB_DIR"
    )
    [[ "$name" == gateway ]] && env+=("GATEWAY_PORT=$GATEWAY_PORT" "GATEWAY_TOKEN_SECRET=$GATEWAY_TOKEN_SECRET"
                                      "UPLOAD_ENCRYPTION_KEY=$UPLOAD_ENCRYPTION_KEY")
    # Payment: demo merchants at the contract server's WeChat Pay, Alipay and Stripe.
    [[ "$name" == payment ]] && env+=("${PAYMENT_ENV[@]}")
    # Registration: the answer links in meeting invitations point at this gateway.
    [[ "$name" == registration ]] && env+=("REGISTRATION_PUBLIC_URL=http://127.0.0.1:$GATEWAY_PORT")
    # Webhook receivers of a local demo live on this machine: allow http and loopback here only.
    # Platform-bridge: the contract server's Zoom, Tencent Meeting and DingTalk.
    [[ "$name" == platform-bridge ]] && env+=("PLATFORM_SECRET_KEY=$PLATFORM_SECRET_KEY" "ZOOM_OAUTH_URL=$ZOOM_OAUTH_URL"
                                              "ZOOM_API_URL=$ZOOM_API_URL" "TENCENT_MEETING_URL=$TENCENT_MEETING_URL"
                                              "DINGTALK_API_URL=$DINGTALK_API_URL" "DINGTALK_OAPI_URL=$DINGTALK_OAPI_URL")
    [[ "$name" == notification ]] && env+=("NOTIFICATION_SECRET_KEY=$NOTIFICATION_SECRET_KEY"
                                           "WEBHOOK_ALLOW_HTTP=true" "WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8")

    setsid env "${env[@]}" "$BIN_DIR/$name" </dev/null >>"$log" 2>&1 &
    pid=$!
    # Without job control a background child is never a process-group leader,
    # so setsid does not fork and $! is the service itself.
    printf '%s\n%s\n' "$pid" "$BIN_DIR/$name" >"$PID_DIR/$name.pid"
    PIDS[$name]=$pid

    # Stream the log to the terminal, prefixed with the service name. The tail
    # ends by itself when this script does (--pid); SIGINT is ignored in
    # background jobs, so the services' shutdown messages still show.
    tail -n +1 -F --pid=$$ "$log" 2>/dev/null | sed -u "s/^/$(printf '%-16s' "$name") | /" &
    TAIL_PIDS+=($!)
}

# ---------------------------------------------------------------------------
# Stopping (Ctrl-C, SIGTERM, or any failure)
# ---------------------------------------------------------------------------

STOPPING=0
EXIT_STATUS=0
ALREADY_RUNNING=0
STACK_STARTED=0
cleanup() {
    (( STOPPING )) && return 0
    STOPPING=1
    (( ALREADY_RUNNING )) && return 0     # nothing of ours to stop: leave the other run alone
    trap '' INT TERM HUP      # a second Ctrl-C must not cut the shutdown short
    # Output may go to a pipe whose reader Ctrl-C already ended (`make run | tee log`): a failed
    # write must not end the shutdown half-way and orphan the services.
    trap '' PIPE
    set +e
    local name pid deadline
    if (( ${#PIDS[@]} > 0 )); then
        log "stopping services (SIGTERM, up to ${STOP_GRACE}s)"
        for name in "${!PIDS[@]}"; do
            pid="${PIDS[$name]}"
            if pid_matches "$pid" "$BIN_DIR/$name"; then kill -TERM "$pid" 2>/dev/null || true; fi
        done
        deadline=$(( SECONDS + STOP_GRACE ))
        for name in "${!PIDS[@]}"; do
            pid="${PIDS[$name]}"
            while pid_running "$pid" && (( SECONDS < deadline )); do sleep 0.2; done
            if pid_matches "$pid" "$BIN_DIR/$name"; then
                log "$name (pid $pid) did not stop within ${STOP_GRACE}s; sending SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
            fi
            rm -f "$PID_DIR/$name.pid"
        done
    fi
    sleep 0.3                 # let the tails print the last lines
    for pid in "${TAIL_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    # Only if we brought it up (not when e.g. the port check failed first).
    if (( STACK_STARTED )); then bash "$STACK" down run || EXIT_STATUS=1; fi
    rm -f "$RUN_PID_FILE"
    (( STACK_STARTED )) && log "stopped"
    return 0
}
on_signal() { cleanup; exit "$EXIT_STATUS"; }
on_exit() {
    local status=$?
    cleanup
    (( status != 0 )) && exit "$status"
    exit "$EXIT_STATUS"
}
trap on_signal INT TERM HUP     # HUP: the terminal was closed
trap on_exit EXIT

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

mkdir -p "$LOG_DIR" "$PID_DIR" "$BLOB_DIR"

# One `make run` at a time: a second one would take the first one's services
# for leftovers of a crash and stop them.
other="$(read_pid "$RUN_PID_FILE")"
if [[ -n "$other" && "$other" != "$$" ]] && pid_matches "$other" "local/run.sh"; then
    ALREADY_RUNNING=1
    die "another 'make run' is already running (pid $other); stop it with Ctrl-C in its terminal, or: kill $other"
fi
echo "$$" >"$RUN_PID_FILE"

stop_leftovers
check_ports_free

# The stack first: on a fresh machine it also installs librabbitmq-dev, libpq-dev
# and libcurl4-openssl-dev, which the build needs.
STACK_STARTED=1
bash "$STACK" up run
# shellcheck disable=SC1090,SC1091  # written by stack.sh up
. "$DIR/env"
HIDE_FROM_SERVICES=(-u CONVENE_ADMIN_DATABASE_URL -u PGHOST -u PGPORT -u NOTIFICATION_SECRET_KEY -u PLATFORM_SECRET_KEY -u GATEWAY_TOKEN_SECRET
                    -u UPLOAD_ENCRYPTION_KEY)
for name in "${SERVICES[@]}"; do
    role="${name//-/_}"
    HIDE_FROM_SERVICES+=(-u "${role^^}_DATABASE_URL")
done

# The payment service's demo accounts (NUL-separated KEY=VALUE: PEM keys span lines).
PAYMENT_ENV=()
while IFS= read -r -d '' setting; do PAYMENT_ENV+=("$setting"); done < <(
    /usr/bin/python3 "$ROOT/compose/local/demo_payment.py" --contracts "$CONTRACTS_URL" \
        --gateway "http://127.0.0.1:$GATEWAY_PORT" --dir "$DIR/payment") \
    || die "could not set up the demo payment accounts (compose/local/demo_payment.py)"
(( ${#PAYMENT_ENV[@]} > 0 )) || die "compose/local/demo_payment.py printed no settings"

log "building ($CONFIGURATION)"
t0=$(now_ms)
"$SWIFT" build -c "$CONFIGURATION"
BIN_DIR="$("$SWIFT" build -c "$CONFIGURATION" --show-bin-path)"
log "built in $(since "$t0"): $BIN_DIR"

for name in "${SERVICES[@]}"; do start_service "$name"; done

# Wait for the gateway; give up early if any service dies on the way.
health_url="http://127.0.0.1:$GATEWAY_PORT/health"
deadline=$(( SECONDS + HEALTH_TIMEOUT ))
until curl -fsS -m 2 -o /dev/null "$health_url" 2>/dev/null; do
    for name in "${SERVICES[@]}"; do
        if ! pid_running "${PIDS[$name]}"; then
            sleep 0.5   # let its tail show the last lines
            die "$name exited during start-up; see $LOG_DIR/$name.log"
        fi
    done
    (( SECONDS < deadline )) || die "the gateway did not answer $health_url within ${HEALTH_TIMEOUT}s; see $LOG_DIR/gateway.log"
    sleep 0.5
done

# Demo data (compose/local/seed.sh): a demo organization, its admin's token, a robot, a webhook.
if [[ -f "$ROOT/compose/local/seed.sh" ]]; then
    log "seeding demo data (compose/local/seed.sh)"
    GATEWAY_URL="http://127.0.0.1:$GATEWAY_PORT" BIN_DIR="$BIN_DIR" bash "$ROOT/compose/local/seed.sh" \
        || log "WARNING: compose/local/seed.sh failed (exit $?); the services keep running"
fi

ops_list=""
for name in "${SERVICES[@]}"; do ops_list+="$name ${OPS_PORT[$name]}, "; done
cat >&2 <<EOF

  Convene is running.
    gateway      http://127.0.0.1:$GATEWAY_PORT   (health: $health_url)
    ops ports    ${ops_list%, }
                 (GET http://127.0.0.1:<port>/health, /metrics)
    logs         $LOG_DIR/<service>.log
    broker UI    $RABBITMQ_MANAGEMENT_URL   (guest / guest)
    database     compose/local/stack.sh psql run
    mail sink    $CONVENE_MAILDIR
    contracts    $CONTRACTS_URL   (DingTalk/WeCom robots, webhook receiver: compose/local/contracts/README.md)
  Ctrl-C to stop.

EOF

# Keep watching: report a service that dies, keep the others running.
declare -A REPORTED=()
while :; do
    sleep 2 & wait $! || true      # `wait` returns at once when a signal arrives
    alive=0
    for name in "${SERVICES[@]}"; do
        if pid_running "${PIDS[$name]}"; then
            alive=$(( alive + 1 ))
        elif [[ -z "${REPORTED[$name]:-}" ]]; then
            wait "${PIDS[$name]}" 2>/dev/null && status=0 || status=$?
            log "WARNING: $name exited (status $status); see $LOG_DIR/$name.log — the others keep running, Ctrl-C to stop"
            REPORTED[$name]=1
        fi
    done
    if (( alive == 0 )); then
        log "every service has exited"
        EXIT_STATUS=1
        exit 1
    fi
done
