#!/usr/bin/env bash
# Realtime benchmarks of issue 9 (docs/BENCHMARKS.md): starts release servers on loopback,
# raises the open-file limit, runs loadgen against them, and stops everything again.
#
#   examples/realtime-bench.sh BACKEND [INSTANCES] -- LOADGEN-ARGS…
#
#   BACKEND    sqlite (a fresh file in a temporary directory) or postgres (a fresh
#              database bench_loadgen_<pid> on $BENCH_POSTGRES, dropped afterwards)
#   INSTANCES  servers to start on ports 18080, 18081, … (default 1; several need postgres)
#   BENCH_BIN_DIR  where paivystys and loadgen are (default target/release; build them with
#              cargo build --release --bin paivystys --bin loadgen)
#
# The script adds --target, --server-pid, --username and the password; for example
#
#   examples/realtime-bench.sh sqlite -- --mode fanout --workers 1000 --rate 50 --duration 30
#   examples/realtime-bench.sh postgres 2 -- --mode chat --chats 200 --duration 20
#   examples/realtime-bench.sh sqlite -- --mode resume --workers 10000 --rate 20 \
#       --duration 40 --restart-after 10 --restart-cmd RESTART
#
# In resume mode the word RESTART stands for a script that stops the first server with
# SIGTERM (its sockets close with 1012) and starts it again on the same database.
set -euo pipefail

cd "$(dirname "$0")/.."
backend=${1:?usage: $0 sqlite|postgres [INSTANCES] -- LOADGEN-ARGS…}
shift
instances=1
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
    instances=$1
    shift
fi
[[ ${1:-} == -- ]] && shift
postgres=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
# The binaries to run; a copy elsewhere keeps a rebuild in the shared tree from swapping
# them during a run.
bins=${BENCH_BIN_DIR:-target/release}

# Each socket is a file descriptor in the server and in loadgen. Raise the soft limit as
# far as the hard limit allows (the servers inherit it); the code never raises it itself.
ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n)"

work=$(mktemp -d /tmp/realtime-bench.XXXXXX)
database=""
cleanup() {
    for pidfile in "$work"/server*.pid; do
        [[ -f $pidfile ]] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    done
    if [[ -n $database ]]; then
        dropdb -h 127.0.0.1 -U postgres --if-exists "$database" || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

case $backend in
    sqlite)
        [[ $instances == 1 ]] || { echo "several instances need postgres" >&2; exit 2; }
        export PAIVYSTYS_DATABASE_URL="sqlite://$work/bench.db"
        ;;
    postgres)
        database="bench_loadgen_$$"
        createdb -h 127.0.0.1 -U postgres "$database"
        export PAIVYSTYS_DATABASE_URL="$postgres/$database"
        ;;
    *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac
export PAIVYSTYS_SHELTER_DATABASE_URL="sqlite://$work/shelter.db"
# One loopback client opens chats and writes far faster than any person: lift the limits
# that protect the public service, for these servers only.
export PAIVYSTYS_CHAT__OPENS_PER_HOUR_PER_SOURCE=1000000000
export PAIVYSTYS_CHAT__OPENS_PER_MINUTE_TOTAL=1000000000
export PAIVYSTYS_CHAT__MESSAGES_PER_MINUTE=1000000000
export RUST_LOG=${RUST_LOG:-warn}

bin=$bins/paivystys
password="Kuormitus-$RANDOM-$RANDOM-testi"
echo "$password" | "$bin" user add --username loadgen --role oncall --password-stdin >/dev/null

# start N: serve on port 18079+N, record the pid, wait until it answers.
cat >"$work/start.sh" <<EOF
#!/usr/bin/env bash
set -eu
port=\$((18079 + \$1))
setsid "$(realpath "$bin")" serve --bind "127.0.0.1:\$port" >>"$work/server\$1.log" 2>&1 &
echo \$! >"$work/server\$1.pid"
for _ in \$(seq 600); do
    curl -sf "http://127.0.0.1:\$port/healthz" >/dev/null && exit 0
    sleep 0.05
done
echo "server \$1 did not start; see $work/server\$1.log" >&2
exit 1
EOF
# restart: SIGTERM the first server, wait for it to exit, start it again.
cat >"$work/restart.sh" <<EOF
#!/usr/bin/env bash
set -eu
pid=\$(cat "$work/server1.pid")
kill -TERM "\$pid"
while kill -0 "\$pid" 2>/dev/null; do sleep 0.05; done
exec "$work/start.sh" 1
EOF
chmod +x "$work/start.sh" "$work/restart.sh"

targets=()
for n in $(seq "$instances"); do
    "$work/start.sh" "$n"
    targets+=(--target "http://127.0.0.1:$((18079 + n))" --server-pid "$(cat "$work/server$n.pid")")
done

args=()
for arg in "$@"; do
    [[ $arg == RESTART ]] && arg="$work/restart.sh"
    args+=("$arg")
done
echo "backend $backend, $instances instance(s); loadgen ${args[*]}"
LOADGEN_PASSWORD=$password "$bins/loadgen" "${targets[@]}" --username loadgen "${args[@]}"
status=$?
grep -ih 'error\|panic' "$work"/server*.log | tail -5 || true
exit $status
