# lib.sh — small helpers shared by stack.sh, run.sh and test.sh (sourced, not run).
# Callers set LOG_TAG (the prefix of their messages) and `set -Eeuo pipefail`.

# The repository root, from this file's location (never a hard-coded path).
# shellcheck disable=SC2034  # used by the scripts that source this file
CONVENE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"

log() { printf '%s: %s\n' "${LOG_TAG:-convene}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${LOG_TAG:-convene}" "$*" >&2; exit 1; }

# set -e alone exits silently; name the command that failed.
trap_err() { trap 'printf "%s: command failed (exit %s) at %s line %s: %s\n" "${LOG_TAG:-convene}" "$?" "${BASH_SOURCE[0]##*/}" "$LINENO" "$BASH_COMMAND" >&2' ERR; }

now_ms() { date +%s%3N; }
# Seconds since a now_ms timestamp, e.g. "6.8 s".
since() { local ms=$(( $(now_ms) - $1 )); printf '%d.%01d s' $(( ms / 1000 )) $(( ms % 1000 / 100 )); }

# True when something accepts TCP connections on 127.0.0.1:$1. bash's /dev/tcp
# needs neither ss nor nc; a closed loopback port is refused at once, `timeout`
# only guards against a filtered one.
port_in_use() {
    # shellcheck disable=SC2016  # $1 is expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# True while process $1 exists and is not a zombie. Our daemons are re-parented
# to init, and some inits (this VM's included) reap only now and then; a zombie
# has finished, so it counts as gone (`kill -0` would still succeed on it).
pid_running() {
    local stat
    [[ "${1:-}" =~ ^[0-9]+$ ]] || return 1
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"            # the state field follows "(comm) "
    [[ "${stat:0:1}" != Z ]]
}

# True when $1 is a running process whose command line contains $2. A pid file
# alone is not enough: after a crash or a reboot the pid may belong to an
# unrelated process, and we must never signal that one.
pid_matches() {
    local pid="$1" marker="$2" cmdline
    pid_running "$pid" || return 1
    # Read it whole first: `| grep -q` could SIGPIPE the reader, and with
    # pipefail that would read as "no match".
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *"$marker"* ]]
}

# The first line of a pid file, digits only ("" when missing).
read_pid() { if [[ -s "$1" ]]; then head -n 1 "$1" | tr -dc '0-9'; fi; }

# Wait until process $1 is gone (up to $2 seconds). Returns 1 on timeout.
wait_pid_gone() {
    local pid="$1" deadline=$(( SECONDS + $2 ))
    while pid_running "$pid"; do
        (( SECONDS < deadline )) || return 1
        sleep 0.2
    done
}

# SIGTERM process $1, wait up to $2 seconds, then SIGKILL.
terminate_pid() {
    local pid="$1" grace="$2"
    pid_running "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_pid_gone "$pid" "$grace"; then
        log "pid $pid still running after ${grace}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_pid_gone "$pid" 5 || true
    fi
}

# Single-quote a value for a POSIX shell.
shquote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
