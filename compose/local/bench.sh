#!/usr/bin/env bash
# bench.sh — what `make bench` does: measure, in one run, on the test-profile stack
#   (a) raw rabbitmq-c persistent publish with confirms, and publish + consume,
#   (b) PostgreSQL single-row commits (pgbench, one-insert script, 8 clients),
#   (c) Convene's own path outbox → relay → broker → consumer → inbox commit,
#   (e) emails per second through the notification service beside the SMTP server's ceiling,
#   (f) registrations per second through gateway, scheduling and registration, free and
#       (f′) paid with WeChat Pay at an in-memory contract server that calls back the gateway,
#   (g) meetings provisioned per second on Zoom, Tencent Meeting and DingTalk (the same contract server),
#   (d) the resident memory of an idle service,
# and print a Markdown report to paste into docs/performance.md.
#
#   make bench                    # 20,000 messages per measurement
#   make bench ARGS="--messages 50000 --concurrency 16"
set -Eeuo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap_err
LOG_TAG="bench"
ROOT="$CONVENE_ROOT"
STACK="$ROOT/compose/local/stack.sh"
cd "$ROOT"

started_stack=0
service_pid=""
notification_pid=""
flow_pids=()
cleanup() {
    local status=$?
    [[ -n "$service_pid" ]] && terminate_pid "$service_pid" 10
    [[ -n "$notification_pid" ]] && terminate_pid "$notification_pid" 10
    for pid in "${flow_pids[@]}"; do terminate_pid "$pid" 10; done
    (( started_stack )) && bash "$STACK" down test
    exit "$status"
}
trap cleanup EXIT

if [[ ! -f "$ROOT/.local/test/env" ]] || ! port_in_use 36672; then started_stack=1; fi
bash "$STACK" up test
. "$ROOT/.local/test/env"

log "building release binaries (convene-bench and the services it drives)"
for product in convene-bench archive notification gateway scheduling registration payment platform-bridge; do
    swift build -c release --product "$product" >/dev/null
done
BIN="$(swift build -c release --show-bin-path)"

# (f) needs the gateway and the services behind a registration.
export BENCH_GATEWAY_URL=http://127.0.0.1:39290
GATEWAY_PORT=39290 DATABASE_URL="$GATEWAY_DATABASE_URL" OPS_PORT=39291 LOG_LEVEL=warning "$BIN/gateway" >/dev/null 2>&1 &
flow_pids+=($!)
DATABASE_URL="$SCHEDULING_DATABASE_URL" OPS_PORT=39292 LOG_LEVEL=warning "$BIN/scheduling" >/dev/null 2>&1 &
flow_pids+=($!)
DATABASE_URL="$REGISTRATION_DATABASE_URL" OPS_PORT=39293 LOG_LEVEL=warning "$BIN/registration" >/dev/null 2>&1 &
flow_pids+=($!)
# (f′) also needs payment, with a WeChat Pay merchant at a contract server of its own that keeps
# its state in memory (the stack's rewrites a JSON file on every change: thousands of orders
# would measure that). The merchant's keys are made once, in .local/test/bench-payment.
/usr/bin/python3 "$ROOT/compose/local/contracts/server.py" --port 39295 >/dev/null 2>&1 &
flow_pids+=($!)
for _ in $(seq 1 100); do curl -fsS -o /dev/null http://127.0.0.1:39295/_admin/health && break; sleep 0.1; done
PAYMENT_ENV=()
while IFS= read -r -d '' setting; do PAYMENT_ENV+=("$setting"); done < <(
    /usr/bin/python3 "$ROOT/compose/local/demo_payment.py" --contracts http://127.0.0.1:39295 \
        --gateway http://127.0.0.1:39290 --dir "$ROOT/.local/test/bench-payment")
(( ${#PAYMENT_ENV[@]} > 0 )) || die "compose/local/demo_payment.py printed no settings"
for setting in "${PAYMENT_ENV[@]}"; do
    [[ "$setting" == WECHATPAY_MCHID=* ]] && export BENCH_WECHATPAY_MCHID="${setting#WECHATPAY_MCHID=}"
done
export BENCH_CONTRACTS_URL=http://127.0.0.1:39295
env "${PAYMENT_ENV[@]}" DATABASE_URL="$PAYMENT_DATABASE_URL" OPS_PORT=39294 LOG_LEVEL=warning "$BIN/payment" >/dev/null 2>&1 &
flow_pids+=($!)
# (g) platform-bridge against the same in-memory contract server's Zoom, Tencent Meeting and DingTalk.
env PLATFORM_SECRET_KEY="$PLATFORM_SECRET_KEY" ZOOM_OAUTH_URL=http://127.0.0.1:39295/zoom ZOOM_API_URL=http://127.0.0.1:39295/zoom \
    TENCENT_MEETING_URL=http://127.0.0.1:39295/tencent DINGTALK_API_URL=http://127.0.0.1:39295/dingtalk \
    PLATFORM_POLL_INTERVAL=50ms PLATFORM_CONCURRENCY=32 \
    DATABASE_URL="$PLATFORM_BRIDGE_DATABASE_URL" OPS_PORT=39296 LOG_LEVEL=warning "$BIN/platform-bridge" >/dev/null 2>&1 &
flow_pids+=($!)
for port in 39291 39292 39293 39294 39296; do
    for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/ready" && break; sleep 0.1; done
done

# (e) needs the notification service itself, against the stack's SMTP sink.
DATABASE_URL="$NOTIFICATION_DATABASE_URL" OPS_PORT=39298 LOG_LEVEL=warning "$BIN/notification" >/dev/null 2>&1 &
notification_pid=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null http://127.0.0.1:39298/ready && break; sleep 0.1; done

echo "## Run of $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores"
echo
echo "Command: \`make bench${*:+ ARGS=\"$*\"}\`"
echo
"$BIN/convene-bench" "$@"
terminate_pid "$notification_pid" 10
notification_pid=""
for pid in "${flow_pids[@]}"; do terminate_pid "$pid" 10; done
flow_pids=()

# (b) pgbench: one INSERT per transaction, fsync on, 8 clients, 10 s.
socket_dir="$ROOT/.local/test/postgres/run"
psql -q -h "$socket_dir" -p "$PGPORT" -U postgres -d convene \
    -c "DROP TABLE IF EXISTS public.bench_commits; CREATE TABLE public.bench_commits (id bigserial PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL DEFAULT now())"
script="$(mktemp)"
echo "INSERT INTO public.bench_commits (body) VALUES ('{\"n\":1}');" >"$script"
tps="$(pgbench -n -c 8 -j 2 -T 10 -f "$script" -h "$socket_dir" -p "$PGPORT" -U postgres convene 2>/dev/null \
    | awk '/^tps/ {printf "%d", $3}')"
lat="$(pgbench -n -c 8 -j 2 -T 5 -f "$script" -h "$socket_dir" -p "$PGPORT" -U postgres convene 2>/dev/null \
    | awk '/latency average/ {print $4}')"
rm -f "$script"
psql -q -h "$socket_dir" -p "$PGPORT" -U postgres -d convene -c "DROP TABLE public.bench_commits"
echo "| (b) pgbench, one INSERT per transaction, 8 clients, 10 s | – | $tps | avg $lat | – |"

# (d) An idle service's resident memory, 10 s after start.
DATABASE_URL="$ARCHIVE_DATABASE_URL" OPS_PORT=39299 LOG_LEVEL=warning "$BIN/archive" >/dev/null 2>&1 &
service_pid=$!
sleep 10
rss_kb="$(awk '/^VmRSS/ {print $2}' "/proc/$service_pid/status")"
echo
echo "Idle \`archive\` service (release build), resident memory 10 s after start: $(( rss_kb / 1024 )) MiB ($rss_kb kB)."
