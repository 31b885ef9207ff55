#!/usr/bin/env bash
# stack.sh — the docker-less local stack: a private RabbitMQ node, a private
# PostgreSQL 15 cluster, an SMTP sink and the contract server (stand-ins for
# DingTalk's and WeCom's robots and a webhook receiver, compose/local/contracts),
# all on loopback, all living under <repo>/.local/<profile>/ (git-ignored).
#
#   stack.sh up|down|env|status|psql|clean PROFILE
#   stack.sh broker-stop|broker-start PROFILE
#
# PROFILE is `run` (make run), `test` (make test) or dev1…dev9 (extra test-shaped
# stacks for parallel working trees). Profiles use different ports and folders, so
# `make test` never disturbs a running `make run`.
#
# Why not systemd / the Debian services: there is no systemd on the machines
# this runs on (CI included), the system services would use the default ports,
# and every checkout/profile needs its own throw-away data. See
# docs/operations.md for the operator view.
set -Eeuo pipefail
# shellcheck source=compose/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap_err

usage() {
    cat >&2 <<'EOF'
usage: stack.sh COMMAND PROFILE        PROFILE = run | test | dev1…dev9
  up            install missing packages, start RabbitMQ, PostgreSQL, the SMTP sink and the contract server
                (reuses whatever is already running), write .local/PROFILE/env
  down          stop what `up` started (data is kept)
  env           print the path of the env file (source it)
  status        show what is running
  psql [ARGS]   psql as superuser on the profile's database (extra args go to psql)
  broker-stop   stop only the RabbitMQ node
  broker-start  start only the RabbitMQ node and wait until it is ready
  clean         down, then delete all data of the profile
EOF
    exit 2
}

(( $# >= 2 )) || usage
CMD="$1"
PROFILE="$2"
shift 2
LOG_TAG="stack[$PROFILE]"

# ---------------------------------------------------------------------------
# Layout and ports
# ---------------------------------------------------------------------------

ROOT="$CONVENE_ROOT"       # from lib.sh: derived from this script's location

case "$PROFILE" in
    # The Erlang distribution port is the AMQP port + 20000; the CLI tools get
    # their own range right above it (see RABBITMQ_CTL_DIST_PORT_MIN below).
    run)  AMQP_PORT=35672 DIST_PORT=55672 MGMT_PORT=35673 PG_PORT=35432 SMTP_PORT=35025 CONTRACTS_PORT=35081 ;;
    test) AMQP_PORT=36672 DIST_PORT=56672 MGMT_PORT=36673 PG_PORT=36432 SMTP_PORT=36025 CONTRACTS_PORT=36081 ;;
    # dev1 … dev9: more test-shaped stacks beside `test`, one per working tree that runs the
    # end-to-end suites at the same time as another (their services consume the same queue
    # names, so two checkouts must not share a broker).
    dev[1-9])
        base=$(( 37600 + ${PROFILE#dev} * 20 ))
        AMQP_PORT=$base DIST_PORT=$(( base + 20000 )) MGMT_PORT=$(( base + 1 )) PG_PORT=$(( base + 2 ))
        SMTP_PORT=$(( base + 3 )) CONTRACTS_PORT=$(( base + 4 )) ;;
    *) echo "stack.sh: unknown profile '$PROFILE' (expected run, test or dev1…dev9)" >&2; usage ;;
esac

DIR="$ROOT/.local/$PROFILE"
ENV_FILE="$DIR/env"
PASSWORD_FILE="$DIR/passwords"

RMQ_BIN=/usr/lib/rabbitmq/bin           # the /usr/sbin wrappers switch to user rabbitmq and lose our cookie
RMQ_DIR="$DIR/rabbitmq"
RMQ_NODE="convene-$PROFILE@localhost"
RMQ_PID_FILE="$RMQ_DIR/rabbitmq.pid"

PG_BIN=/usr/lib/postgresql/15/bin
PG_DB=convene

SMTP_DIR="$DIR/smtp"
SMTP_PID_FILE="$SMTP_DIR/aiosmtpd.pid"
MAIL_DIR="$DIR/mail"
SMTP_PYTHON=/usr/bin/python3            # Debian's python: the one that sees python3-aiosmtpd (not a pyenv shim)

# The contract server: standard library plus python3-cryptography (in PACKAGES), run by Debian's python3.
CONTRACTS_DIR="$DIR/contracts"          # its pid file, log and state (robots, endpoints, received messages)
CONTRACTS_PID_FILE="$CONTRACTS_DIR/server.pid"
CONTRACTS_LOG="$CONTRACTS_DIR/server.log"
CONTRACTS_SERVER="$ROOT/compose/local/contracts/server.py"
CONTRACTS_PYTHON=/usr/bin/python3

# Role == schema name, one per service (see compose/postgres/create-schemas.sh).
DB_ROLES=(gateway registration payment scheduling platform_bridge notification archive)

# Installed (when missing) before anything starts. curl is not strictly part of
# the stack, but run.sh uses it for the gateway health check; python3-openpyxl
# writes the spreadsheets the attendee import tests read (as users' files are).
PACKAGES=(rabbitmq-server librabbitmq-dev libpq-dev libcurl4-openssl-dev zlib1g-dev postgresql python3-aiosmtpd python3-cryptography python3-openpyxl curl)

# How long to wait for things to come up. A cold RabbitMQ restart with quorum
# queues takes ~12 s on a 2-core machine; leave generous head-room for slow CI.
RMQ_START_TIMEOUT="${CONVENE_RMQ_START_TIMEOUT:-120}"
RMQ_STOP_TIMEOUT=60
PG_TIMEOUT=60

# ---------------------------------------------------------------------------
# Small helpers (the generic ones live in lib.sh)
# ---------------------------------------------------------------------------

# Percent-encode a value for a URL query (the socket folder in the admin URL).
urlencode() {
    local s="$1" out="" c i
    for (( i = 0; i < ${#s}; i++ )); do
        c="${s:i:1}"
        case "$c" in
            [A-Za-z0-9/._~-]) out+="$c" ;;
            *) out+="$(printf '%%%02X' "'$c")" ;;
        esac
    done
    printf '%s' "$out"
}

# Serialise commands on one profile (e.g. `make stack-up` racing `make test`).
# The lock is on fd 9; every daemon we start gets `9>&-` so it does not inherit
# (and hold) the lock for its whole life.
take_lock() {
    mkdir -p "$DIR"
    exec 9>>"$DIR/.lock"
    if ! flock -w 300 9; then
        die "another stack.sh command on profile $PROFILE has held $DIR/.lock for 5 minutes"
    fi
}

# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------

# dpkg -s's Status field, read without a pipe into `grep -q` (whose early exit
# would SIGPIPE dpkg and, under pipefail, make an installed package look missing).
pkg_installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]; }

ensure_packages() {
    command -v dpkg >/dev/null 2>&1 || die "this stack expects Debian/Ubuntu (dpkg, apt-get); install by hand: ${PACKAGES[*]}"
    local p missing=()
    for p in "${PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
    (( ${#missing[@]} == 0 )) && return 0

    if (( EUID != 0 )); then
        die "missing packages: ${missing[*]}
  Installing them needs root. Run this once as root (or with sudo), or install them yourself:
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${PACKAGES[*]}"
    fi
    log "installing missing packages: ${missing[*]}"
    local t0; t0=$(now_ms)
    apt-get update
    # The packages' own attempt to start their system services fails harmlessly
    # without systemd; we never use those services anyway.
    # (Lock timeout: another apt run, e.g. a parallel stack.sh up, may hold the lock.)
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y "${PACKAGES[@]}"
    log "packages installed ($(since "$t0"))"
}

# ---------------------------------------------------------------------------
# RabbitMQ
# ---------------------------------------------------------------------------

# The node's whole environment. HOME carries the Erlang cookie, which the server
# and the CLI tools must share. RABBITMQ_CONF_ENV_FILE points at a file that
# need not exist so /etc/rabbitmq/rabbitmq-env.conf is ignored.
#
# RABBITMQ_CTL_DIST_PORT_MIN/MAX: the CLI tools (rabbitmqctl, rabbitmq-diagnostics)
# start an Erlang node of their own that listens on a port in 35672..35682 by
# default — which is exactly the run profile's AMQP (35672) and management (35673)
# ports. A `ping` racing the node's start-up could grab 35672 and make the
# broker fail with eaddrinuse. Give them the range just above the node's
# distribution port instead, distinct per profile.
RMQ_ENV=(
    "HOME=$RMQ_DIR/home"
    "RABBITMQ_CONF_ENV_FILE=$RMQ_DIR/rabbitmq-env.conf"
    "RABBITMQ_NODENAME=$RMQ_NODE"
    "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1"
    "RABBITMQ_NODE_PORT=$AMQP_PORT"
    "RABBITMQ_DIST_PORT=$DIST_PORT"
    "RABBITMQ_CTL_DIST_PORT_MIN=$(( DIST_PORT + 1 ))"
    "RABBITMQ_CTL_DIST_PORT_MAX=$(( DIST_PORT + 11 ))"
    "RABBITMQ_MNESIA_BASE=$RMQ_DIR/mnesia"
    "RABBITMQ_LOG_BASE=$RMQ_DIR/log"
    "RABBITMQ_PID_FILE=$RMQ_PID_FILE"
    "RABBITMQ_CONFIG_FILE=$RMQ_DIR/rabbitmq.conf"
    "RABBITMQ_ENABLED_PLUGINS_FILE=$RMQ_DIR/enabled_plugins"
    "RABBITMQ_ADVANCED_CONFIG_FILE=$RMQ_DIR/advanced.config"
)

rmq() { local tool="$1"; shift; env "${RMQ_ENV[@]}" "$RMQ_BIN/$tool" "$@"; }

# The beam process of *this* node: its pid file, and its command line names our node.
rmq_pid_alive() { pid_matches "$(read_pid "$RMQ_PID_FILE")" "-home $RMQ_DIR/home"; }

# Fast check first (is anything of ours there at all?), then the real one: each
# CLI call boots an Erlang VM, ~1 s.
rmq_responding() {
    { rmq_pid_alive || port_in_use "$DIST_PORT"; } || return 1
    rmq rabbitmq-diagnostics -q ping >/dev/null 2>&1
}

rmq_write_config() {
    mkdir -p "$RMQ_DIR/home" "$RMQ_DIR/mnesia" "$RMQ_DIR/log"
    chmod 700 "$RMQ_DIR/home"
    # Our own cookie, written before the first Erlang command so that the
    # server and the CLI tools cannot race to create different ones.
    if [[ ! -s "$RMQ_DIR/home/.erlang.cookie" ]]; then
        # (od, not `tr </dev/urandom | head`: with pipefail the SIGPIPE that
        # ends tr would count as a failure.)
        ( umask 077; od -An -N20 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F >"$RMQ_DIR/home/.erlang.cookie" )
        chmod 400 "$RMQ_DIR/home/.erlang.cookie"
    fi
    # Rewritten on every start so that edits to this script take effect.
    # No definitions are loaded: the services declare their own topology.
    cat >"$RMQ_DIR/rabbitmq.conf" <<EOF
# Written by compose/local/stack.sh — changes are overwritten on the next start.
listeners.tcp.1 = 127.0.0.1:$AMQP_PORT
# guest/guest is allowed from anywhere; the listeners are bound to loopback only.
loopback_users = none
management.tcp.port = $MGMT_PORT
management.tcp.ip = 127.0.0.1
log.file.level = info
log.console = false
EOF
    echo '[rabbitmq_management].' >"$RMQ_DIR/enabled_plugins"
    echo '[].' >"$RMQ_DIR/advanced.config"
}

# Start the node without waiting (so PostgreSQL can be set up meanwhile).
rmq_launch() {
    if rmq_pid_alive; then
        log "rabbitmq: node $RMQ_NODE already running (pid $(read_pid "$RMQ_PID_FILE"))"
        return 0
    fi
    if port_in_use "$DIST_PORT" && rmq rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
        log "rabbitmq: node $RMQ_NODE already running (pid file missing)"
        return 0
    fi
    local p
    for p in "$AMQP_PORT" "$MGMT_PORT" "$DIST_PORT"; do
        port_in_use "$p" && die "rabbitmq: port $p on 127.0.0.1 is taken by another process (another checkout's stack? 'ss -ltnp' tells who)"
    done
    rmq_write_config
    rm -f "$RMQ_PID_FILE"
    RMQ_T0=$(now_ms)
    log "rabbitmq: starting node $RMQ_NODE (amqp $AMQP_PORT, management $MGMT_PORT)"
    rmq rabbitmq-server -detached </dev/null >>"$RMQ_DIR/log/console.log" 2>&1 9>&- \
        || die "rabbitmq: rabbitmq-server -detached failed; see $RMQ_DIR/log/"
}

# Wait until the node answers ping and has finished booting.
rmq_wait_ready() {
    local t0 deadline pid
    t0=${RMQ_T0:-$(now_ms)}
    deadline=$(( SECONDS + RMQ_START_TIMEOUT ))
    until rmq rabbitmq-diagnostics -q ping >/dev/null 2>&1; do
        # Once the pid file exists, a dead pid means the boot failed: stop waiting.
        pid="$(read_pid "$RMQ_PID_FILE")"
        if [[ -n "$pid" ]] && ! pid_running "$pid"; then
            tail -n 30 "$RMQ_DIR/log/$RMQ_NODE.log" >&2 2>/dev/null || true
            die "rabbitmq: node $RMQ_NODE died while starting; logs in $RMQ_DIR/log/"
        fi
        if (( SECONDS >= deadline )); then
            tail -n 30 "$RMQ_DIR/log/$RMQ_NODE.log" >&2 2>/dev/null || true
            die "rabbitmq: node $RMQ_NODE not answering after ${RMQ_START_TIMEOUT}s; logs in $RMQ_DIR/log/"
        fi
        sleep 0.5
    done
    # ping answers as soon as the Erlang VM is up; await_startup waits for the
    # rabbit application itself (and fails at once if the VM is not up, hence ping first).
    rmq rabbitmqctl -q await_startup --timeout "$RMQ_START_TIMEOUT" >/dev/null \
        || die "rabbitmq: node $RMQ_NODE did not finish booting; logs in $RMQ_DIR/log/"
    log "rabbitmq: ready ($(since "$t0"))"
    unset RMQ_T0
}

rmq_stop() {
    local pid t0
    pid="$(read_pid "$RMQ_PID_FILE")"
    if ! rmq_pid_alive && ! port_in_use "$DIST_PORT"; then
        log "rabbitmq: not running"
        rm -f "$RMQ_PID_FILE"
        return 0
    fi
    t0=$(now_ms)
    log "rabbitmq: stopping node $RMQ_NODE"
    # `shutdown` (unlike `stop`) also waits for the OS process to exit.
    if ! timeout "$RMQ_STOP_TIMEOUT" env "${RMQ_ENV[@]}" "$RMQ_BIN/rabbitmqctl" -q shutdown >/dev/null 2>&1; then
        # CLI failed (node wedged, or it was never really ours): fall back to
        # signals, but only to the pid our pid file names *and* that is our node.
        if pid_matches "$pid" "-home $RMQ_DIR/home"; then
            log "rabbitmq: rabbitmqctl shutdown failed; sending SIGTERM to pid $pid"
            terminate_pid "$pid" 30
        elif port_in_use "$DIST_PORT"; then
            die "rabbitmq: something answers on port $DIST_PORT but is not node $RMQ_NODE from $RMQ_DIR; not touching it"
        fi
    fi
    rm -f "$RMQ_PID_FILE"
    log "rabbitmq: stopped ($(since "$t0"))"
}

# epmd (port 4369) is started by the first Erlang command and outlives every
# node. It is shared by all nodes on the machine (the other profile, a system
# node), so stop it only when it has no node registered any more, only if it
# runs as us, and only by its process id.
epmd_stop_if_unused() {
    local names pid exe
    command -v epmd >/dev/null 2>&1 || return 0
    names="$(epmd -names 2>/dev/null)" || return 0      # not running
    if grep -q '^name ' <<<"$names"; then
        log "epmd: still serving $(grep -c '^name ' <<<"$names") node(s); leaving it running"
        return 0
    fi
    for exe in /proc/[0-9]*/exe; do
        pid="${exe#/proc/}"; pid="${pid%/exe}"
        [[ "$(readlink "$exe" 2>/dev/null)" == */epmd ]] || continue
        [[ -O "/proc/$pid" ]] || continue                # not ours: leave it
        # Re-check right before the kill: a node may have registered meanwhile.
        grep -q '^name ' <<<"$(epmd -names 2>/dev/null)" && return 0
        log "epmd: no node registered; stopping it (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
    done
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

# PostgreSQL refuses to run as root: as root, run its tools as user postgres
# (cd / first: postgres may not be allowed into the caller's working folder).
# As an ordinary user, run them as that user.
# shellcheck disable=SC2016  # "$0" "$@" are expanded by the inner shell
pg_as() {
    if (( EUID == 0 )); then
        su postgres -s /bin/sh -c 'cd / && exec "$0" "$@"' -- "$@"
    else
        "$@"
    fi
}

pg_owner() { if (( EUID == 0 )); then echo postgres; else id -un; fi; }

# Where the cluster lives. Normally .local/PROFILE/postgres, but user postgres
# must be able to reach it: on a checkout under a private folder (e.g. /root,
# mode 700) it cannot, so the cluster goes under postgres's home instead and
# .local/PROFILE/postgres becomes a symlink to it (`clean` removes both).
#
# The socket folder: a unix socket path is limited to 107 bytes, so a deep
# checkout falls back to a short folder under /tmp.
pg_paths() {
    local key
    key="$(printf '%s' "$DIR" | md5sum | cut -c1-10)"
    PG_DIR="$DIR/postgres"
    # shellcheck disable=SC2016  # "$0" is expanded by the inner shell
    if [[ -L "$PG_DIR" ]]; then
        PG_DIR="$(readlink -f "$PG_DIR")"
    elif (( EUID == 0 )) && id postgres >/dev/null 2>&1 \
            && ! su postgres -s /bin/sh -c 'test -x "$0"' -- "$DIR" 2>/dev/null; then
        local home
        home="$(getent passwd postgres | cut -d: -f6)"
        [[ -d "$home" ]] || die "postgres: user postgres cannot reach $DIR and has no home folder to use instead"
        PG_DIR="$home/convene-$key-$PROFILE"
        mkdir -p "$PG_DIR"
        ln -sfn "$PG_DIR" "$DIR/postgres"
        log "postgres: user postgres cannot reach $DIR; keeping the cluster in $PG_DIR"
    fi
    PG_DATA="$PG_DIR/data"
    PG_LOG="$PG_DIR/server.log"
    PG_SOCK="$PG_DIR/run"
    if (( ${#PG_SOCK} + 20 > 100 )); then
        PG_SOCK="/tmp/convene-pg-$key-$PROFILE"
    fi
}

pg_running() { [[ -f "$PG_DATA/PG_VERSION" ]] && pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

# psql as superuser over the unix socket (trust). Runs as the caller: any OS
# user may connect as database user postgres there.
pg_psql() { "$PG_BIN/psql" -X -h "$PG_SOCK" -p "$PG_PORT" -U postgres "$@"; }

pg_start() {
    local t0 owner
    t0=$(now_ms)
    owner="$(pg_owner)"
    mkdir -p "$PG_DIR" "$PG_SOCK"
    chown "$owner:" "$PG_DIR" "$PG_SOCK"
    chmod 700 "$PG_DIR"
    chmod 755 "$PG_SOCK"     # writable by postgres, reachable by the caller

    if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
        log "postgres: creating cluster in $PG_DATA"
        rm -rf "$PG_DATA"    # a half-made cluster from an interrupted initdb
        pg_as "$PG_BIN/initdb" -D "$PG_DATA" -U postgres \
            --auth-local=trust --auth-host=scram-sha-256 \
            -E UTF8 --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1 \
            || { cat "$PG_DIR/initdb.log" >&2; die "postgres: initdb failed"; }
    fi

    if pg_running; then
        log "postgres: already running (port $PG_PORT)"
    else
        port_in_use "$PG_PORT" && die "postgres: port $PG_PORT on 127.0.0.1 is taken by another process"
        # max_connections: the test suites run many services and pools side by side.
        # synchronous_commit stays on (the default) on purpose: the outbox relies
        # on a commit being durable once it returns. pg_ctl puts the server in its
        # own session, so a Ctrl-C in the terminal does not reach it.
        local opts
        opts="-p $PG_PORT -k $(shquote "$PG_SOCK") -c listen_addresses=127.0.0.1 -c max_connections=500 -c synchronous_commit=on"
        pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -o "$opts" -w -t "$PG_TIMEOUT" start >/dev/null 9>&- \
            || { tail -n 30 "$PG_LOG" >&2 || true; die "postgres: failed to start; log: $PG_LOG"; }
        log "postgres: started on port $PG_PORT ($(since "$t0"))"
    fi

    if [[ -z "$(pg_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]]; then
        pg_psql -d postgres -q -c "CREATE DATABASE $PG_DB" >/dev/null
        log "postgres: created database $PG_DB"
    fi

    # Roles, schemas and privileges: the same script the compose stack uses.
    (
        set -a
        # shellcheck disable=SC1090
        . "$PASSWORD_FILE"
        set +a
        PGHOST="$PG_SOCK" PGPORT="$PG_PORT" PGUSER=postgres PGDATABASE="$PG_DB" PSQL="$PG_BIN/psql" \
            bash "$ROOT/compose/postgres/create-schemas.sh" >/dev/null
    ) || die "postgres: create-schemas.sh failed"
    log "postgres: database $PG_DB ready ($(since "$t0"))"
}

pg_stop() {
    if ! pg_running; then
        log "postgres: not running"
        return 0
    fi
    local t0; t0=$(now_ms)
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t "$PG_TIMEOUT" stop >/dev/null
    log "postgres: stopped ($(since "$t0"))"
}

# ---------------------------------------------------------------------------
# SMTP sink (aiosmtpd storing every message into a Maildir)
# ---------------------------------------------------------------------------

smtp_alive() { pid_matches "$(read_pid "$SMTP_PID_FILE")" "127.0.0.1:$SMTP_PORT"; }

smtp_start() {
    if smtp_alive; then
        log "smtp: sink already running (pid $(read_pid "$SMTP_PID_FILE"))"
        return 0
    fi
    port_in_use "$SMTP_PORT" && die "smtp: port $SMTP_PORT on 127.0.0.1 is taken by another process"
    # Maildir needs cur/new/tmp: Python's mailbox.Maildir only creates them when
    # the folder itself does not exist yet.
    mkdir -p "$SMTP_DIR" "$MAIL_DIR/cur" "$MAIL_DIR/new" "$MAIL_DIR/tmp"
    # setsid: its own session, so a Ctrl-C in make run's terminal does not kill
    # it; the small sh writes its own pid (the one python inherits via exec).
    # -n: do not try to setuid to nobody (which could not write the Maildir).
    # shellcheck disable=SC2016
    setsid sh -c 'echo $$ >"$0"; exec "$@"' "$SMTP_PID_FILE" \
        "$SMTP_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
        -c aiosmtpd.handlers.Mailbox "$MAIL_DIR" \
        </dev/null >>"$SMTP_DIR/aiosmtpd.log" 2>&1 9>&- &
    local deadline=$(( SECONDS + 15 ))
    until port_in_use "$SMTP_PORT"; do
        if (( SECONDS >= deadline )) || ! pid_running $!; then
            tail -n 20 "$SMTP_DIR/aiosmtpd.log" >&2 || true
            die "smtp: aiosmtpd did not start; log: $SMTP_DIR/aiosmtpd.log"
        fi
        sleep 0.2
    done
    log "smtp: sink listening on 127.0.0.1:$SMTP_PORT, mail stored in $MAIL_DIR"
}

smtp_stop() {
    local t0; t0=$(now_ms)
    if ! smtp_alive; then
        log "smtp: not running"
        rm -f "$SMTP_PID_FILE"
        return 0
    fi
    terminate_pid "$(read_pid "$SMTP_PID_FILE")" 10
    rm -f "$SMTP_PID_FILE"
    log "smtp: stopped ($(since "$t0"))"
}

# ---------------------------------------------------------------------------
# Contract server (compose/local/contracts: provider stand-ins on one port)
# ---------------------------------------------------------------------------

contracts_alive() { pid_matches "$(read_pid "$CONTRACTS_PID_FILE")" "--port $CONTRACTS_PORT --state-dir $CONTRACTS_DIR"; }

contracts_start() {
    if contracts_alive; then
        log "contracts: server already running (pid $(read_pid "$CONTRACTS_PID_FILE"))"
        return 0
    fi
    port_in_use "$CONTRACTS_PORT" && die "contracts: port $CONTRACTS_PORT on 127.0.0.1 is taken by another process"
    [[ -x "$CONTRACTS_PYTHON" ]] || die "contracts: $CONTRACTS_PYTHON is missing (apt-get install python3)"
    mkdir -p "$CONTRACTS_DIR"
    chmod 700 "$CONTRACTS_DIR"          # its state holds robot secrets
    # Started like the SMTP sink: own session, pid written by the sh that execs python.
    # shellcheck disable=SC2016
    setsid sh -c 'echo $$ >"$0"; exec "$@"' "$CONTRACTS_PID_FILE" \
        env PYTHONDONTWRITEBYTECODE=1 "$CONTRACTS_PYTHON" "$CONTRACTS_SERVER" --host 127.0.0.1 --port "$CONTRACTS_PORT" --state-dir "$CONTRACTS_DIR" \
        </dev/null >>"$CONTRACTS_LOG" 2>&1 9>&- &
    local deadline=$(( SECONDS + 15 ))
    until port_in_use "$CONTRACTS_PORT"; do
        if (( SECONDS >= deadline )) || ! pid_running $!; then
            tail -n 20 "$CONTRACTS_LOG" >&2 || true
            die "contracts: server did not start; log: $CONTRACTS_LOG"
        fi
        sleep 0.2
    done
    log "contracts: server listening on http://127.0.0.1:$CONTRACTS_PORT, log $CONTRACTS_LOG"
}

contracts_stop() {
    local t0; t0=$(now_ms)
    if ! contracts_alive; then
        log "contracts: not running"
        rm -f "$CONTRACTS_PID_FILE"
        return 0
    fi
    terminate_pid "$(read_pid "$CONTRACTS_PID_FILE")" 10
    rm -f "$CONTRACTS_PID_FILE"
    log "contracts: stopped ($(since "$t0"))"
}

# ---------------------------------------------------------------------------
# Passwords and the env file
# ---------------------------------------------------------------------------

# One random password per role, generated once per profile folder and reused
# afterwards (the database keeps them, create-schemas.sh re-applies them).
# Hex, so they need no escaping in URLs.
ensure_passwords() {
    local role var
    ( umask 077; touch "$PASSWORD_FILE" )
    for role in "${DB_ROLES[@]}"; do
        var="${role^^}_DB_PASSWORD"
        grep -q "^$var=" "$PASSWORD_FILE" \
            || printf '%s=%s\n' "$var" "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >>"$PASSWORD_FILE"
    done
}

password_of() { sed -n "s/^${1^^}_DB_PASSWORD=//p" "$PASSWORD_FILE"; }

# The key that seals robot tokens and webhook secrets in the notification schema: made once
# per stack folder and kept, so what was sealed still opens after a restart.
# The key platform-bridge seals organizations' platform credentials with: made once per stack folder.
platform_secret_key() {
    local file="$DIR/platform-secret-key"
    if [[ ! -s "$file" ]]; then
        (umask 077 && head -c 32 /dev/urandom | base64 >"$file.tmp" && mv -f "$file.tmp" "$file")
    fi
    cat "$file"
}

notification_secret_key() {
    local file="$DIR/notification-secret-key"
    if [[ ! -s "$file" ]]; then
        (umask 077 && head -c 32 /dev/urandom | base64 >"$file.tmp" && mv -f "$file.tmp" "$file")
    fi
    cat "$file"
}

# The key that signs and checks the gateway's access tokens (HS256): made once per stack folder
# and kept, so tokens issued before a restart stay valid until they expire.
gateway_token_secret() {
    local file="$DIR/gateway-token-secret"
    if [[ ! -s "$file" ]]; then
        (umask 077 && head -c 32 /dev/urandom | base64 >"$file.tmp" && mv -f "$file.tmp" "$file")
    fi
    cat "$file"
}

# The key that seals uploaded identity documents (UPLOAD_ENCRYPTION_KEY): made once per stack
# folder and kept, so documents stored before a restart still open.
upload_encryption_key() {
    local file="$DIR/upload-encryption-key"
    if [[ ! -s "$file" ]]; then
        (umask 077 && head -c 32 /dev/urandom | base64 >"$file.tmp" && mv -f "$file.tmp" "$file")
    fi
    cat "$file"
}

write_env_file() {
    local tmp="$ENV_FILE.tmp.$$" role
    {
        echo "# Written by compose/local/stack.sh up $PROFILE — source it: . $ENV_FILE"
        printf 'export %s=%s\n' \
            CONVENE_PROFILE "$(shquote "$PROFILE")" \
            CONVENE_STACK_DIR "$(shquote "$DIR")" \
            AMQP_URL "$(shquote "amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2F")" \
            RABBITMQ_MANAGEMENT_URL "$(shquote "http://127.0.0.1:$MGMT_PORT")" \
            PGHOST "'127.0.0.1'" \
            PGPORT "'$PG_PORT'" \
            CONVENE_ADMIN_DATABASE_URL "$(shquote "postgresql://postgres@/$PG_DB?host=$(urlencode "$PG_SOCK")&port=$PG_PORT")"
        for role in "${DB_ROLES[@]}"; do
            printf 'export %s=%s\n' "${role^^}_DATABASE_URL" \
                "$(shquote "postgresql://$role:$(password_of "$role")@127.0.0.1:$PG_PORT/$PG_DB")"
        done
        printf 'export %s=%s\n' \
            SMTP_URL "$(shquote "smtp://127.0.0.1:$SMTP_PORT")" \
            CONVENE_MAILDIR "$(shquote "$MAIL_DIR")" \
            CONTRACTS_URL "$(shquote "http://127.0.0.1:$CONTRACTS_PORT")" \
            DINGTALK_ROBOT_URL "$(shquote "http://127.0.0.1:$CONTRACTS_PORT/robot/send")" \
            WECOM_ROBOT_URL "$(shquote "http://127.0.0.1:$CONTRACTS_PORT/cgi-bin/webhook/send")" \
            WECHATPAY_URL "$(shquote "http://127.0.0.1:$CONTRACTS_PORT")" \
            ALIPAY_GATEWAY_URL "$(shquote "http://127.0.0.1:$CONTRACTS_PORT/gateway.do")" \
            STRIPE_URL "$(shquote "http://127.0.0.1:$CONTRACTS_PORT/stripe")" \
            ZOOM_OAUTH_URL "$(shquote "http://127.0.0.1:$CONTRACTS_PORT/zoom")" \
            ZOOM_API_URL "$(shquote "http://127.0.0.1:$CONTRACTS_PORT/zoom")" \
            TENCENT_MEETING_URL "$(shquote "http://127.0.0.1:$CONTRACTS_PORT/tencent")" \
            DINGTALK_API_URL "$(shquote "http://127.0.0.1:$CONTRACTS_PORT/dingtalk")" \
            DINGTALK_OAPI_URL "$(shquote "http://127.0.0.1:$CONTRACTS_PORT/dingtalk")" \
            NOTIFICATION_SECRET_KEY "$(shquote "$(notification_secret_key)")" \
            PLATFORM_SECRET_KEY "$(shquote "$(platform_secret_key)")" \
            GATEWAY_TOKEN_SECRET "$(shquote "$(gateway_token_secret)")" \
            UPLOAD_ENCRYPTION_KEY "$(shquote "$(upload_encryption_key)")"
    } >"$tmp"
    chmod 600 "$tmp"     # it holds the passwords
    mv -f "$tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

cmd_up() {
    local t0; t0=$(now_ms)
    ensure_packages
    take_lock
    pg_paths
    ensure_passwords
    # RabbitMQ boots in ~5–8 s; set PostgreSQL, the SMTP sink and the contract server up meanwhile.
    rmq_launch
    pg_start
    smtp_start
    contracts_start
    rmq_wait_ready
    write_env_file
    log "up in $(since "$t0"); environment: $ENV_FILE"
}

cmd_down() {
    local t0 rmq_job; t0=$(now_ms)
    take_lock
    pg_paths
    # A RabbitMQ shutdown takes ~8 s (5 s of it a fixed wait in the management
    # plugin's statistics shutdown); stop the others meanwhile.
    rmq_stop & rmq_job=$!
    smtp_stop
    contracts_stop
    pg_stop
    wait "$rmq_job" || die "rabbitmq: stopping node $RMQ_NODE failed"
    epmd_stop_if_unused
    log "down in $(since "$t0") (data kept in $DIR)"
}

cmd_status() {
    pg_paths
    local rc=0
    if rmq_responding; then echo "rabbitmq  running  node $RMQ_NODE, amqp 127.0.0.1:$AMQP_PORT, management http://127.0.0.1:$MGMT_PORT"
    else echo "rabbitmq  stopped"; rc=3; fi
    if pg_running; then echo "postgres  running  127.0.0.1:$PG_PORT, socket $PG_SOCK, data $PG_DATA"
    else echo "postgres  stopped"; rc=3; fi
    if smtp_alive; then echo "smtp      running  127.0.0.1:$SMTP_PORT, maildir $MAIL_DIR"
    else echo "smtp      stopped"; rc=3; fi
    if contracts_alive; then echo "contracts running  http://127.0.0.1:$CONTRACTS_PORT (dingtalk robot, wecom robot, webhook receiver), log $CONTRACTS_LOG"
    else echo "contracts stopped"; rc=3; fi
    exit "$rc"       # 3 = something is not running (like an init script's status)
}

cmd_clean() {
    cmd_down
    pg_paths
    # The cluster may live outside .local (see pg_paths); remove it too.
    if [[ -L "$DIR/postgres" ]]; then rm -rf "$(readlink -f "$DIR/postgres")"; fi
    [[ "$PG_SOCK" == /tmp/convene-pg-* ]] && rm -rf "$PG_SOCK"
    rm -rf "$DIR"
    log "removed $DIR"
}

case "$CMD" in
    up)           cmd_up ;;
    down)         cmd_down ;;
    env)          [[ -f "$ENV_FILE" ]] || die "no env file yet; run: $0 up $PROFILE"; echo "$ENV_FILE" ;;
    status)       cmd_status ;;
    psql)         pg_paths; pg_running || die "postgres is not running; run: $0 up $PROFILE"
                  exec "$PG_BIN/psql" -h "$PG_SOCK" -p "$PG_PORT" -U postgres "$@" "$PG_DB" ;;
    broker-stop)  take_lock; rmq_stop ;;
    broker-start) take_lock; rmq_launch; rmq_wait_ready ;;
    clean)        cmd_clean ;;
    *)            usage ;;
esac
