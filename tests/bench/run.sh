#!/usr/bin/env bash
# Start a chat-server on a random port with limits a load generator needs, run loadgen against it, stop it.
# While the generator reports its sockets connected, sample CPU (server, and PostgreSQL + Redis) for 5 s;
# with PERF_OUT=file also record a 5 s CPU profile of the server (perf record -g).
#
#   tests/bench/run.sh sqlite -- fixed --rate 2000 --duration 15
#   tests/bench/run.sh pg -- ramp --start 6000 --step 2000 --max 20000 --duration 8
#   tests/bench/run.sh sqlite -- idle --sockets 18000 --server-pid SERVER_PID
#
# KEEP=1 keeps the database (and SQLite's directory) for a look afterwards.
# SERVER / LOADGEN pick the binaries (default: target/release/chat-server and target/release/examples/loadgen).
set -euo pipefail
backend=$1; shift; [ "${1:-}" = -- ] && shift
target=${CARGO_TARGET_DIR:-target}
server=${SERVER:-$target/release/chat-server}
loadgen=${LOADGEN:-$target/release/examples/loadgen}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)
export CHAT_BIND=127.0.0.1:$port CHAT_DATA_DIR=$work RUST_LOG=warn \
  CHAT_WS_FRAMES_PER_SEC=100000 CHAT_AUTH_PER_MINUTE=1000000 CHAT_REST_PER_SECOND=100000 \
  CHAT_WS_UPGRADES_PER_MINUTE_PER_ADDRESS=1000000 CHAT_WS_UPGRADES_PER_MINUTE_PER_USER=1000000 \
  CHAT_MAX_SOCKETS_PER_USER=100000 JWT_SECRET=bench-secret-bench-secret-bench-secret-0
db=""
case $backend in
  sqlite) export DATABASE_URL=sqlite://$work/chat.db ;;
  pg)
    db=chat_bench_$$
    createdb -h 127.0.0.1 -U postgres "$db"
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db REDIS_URL=redis://127.0.0.1:6379 CHAT_REDIS_PREFIX=$db ;;
  *) echo "backend must be sqlite or pg" >&2; exit 2 ;;
esac
"$server" >"${SERVER_LOG:-$work/server.log}" 2>&1 &
pid=$!
# With PGSS=1 (PostgreSQL, pg_stat_statements preloaded): statements and time per stored message over the
# sending phase, counted from when the generator's sockets are connected.
pgss() {
  local q="psql -h 127.0.0.1 -U postgres -d $db -Atq"
  $q -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" 2>/dev/null
  [ "$1" = reset ] && { $q -c "SELECT pg_stat_statements_reset()" >/dev/null; $q -c "SELECT count(*) FROM messages" >"$work/pgss0"; return; }
  local stored=$(( $($q -c "SELECT count(*) FROM messages") - $(cat "$work/pgss0") ))
  echo "pg_stat_statements over the sending phase: $stored messages stored"
  $q -F ' | ' -c "SELECT calls, round(total_exec_time::numeric, 1) AS ms, round((calls::numeric / greatest($stored, 1)), 3) AS per_msg, left(regexp_replace(query, '\s+', ' ', 'g'), 90)
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$db') ORDER BY total_exec_time DESC LIMIT 14"
  $q -c "SELECT 'total: ' || sum(calls) || ' statements, ' || round(sum(calls)::numeric / greatest($stored, 1), 2) || ' per stored message, ' || round((sum(total_exec_time) * 1000 / greatest($stored, 1))::numeric, 1) || ' µs of execution per stored message'
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$db')"
}
cleanup() {
  [ -n "${PGSS:-}" ] && [ -n "$db" ] && pgss report
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  # KEEP=1 leaves the database for a look at query plans afterwards.
  if [ -n "${KEEP:-}" ]; then echo "kept: ${DATABASE_URL}" >&2; return; fi
  [ -n "$db" ] && dropdb -h 127.0.0.1 -U postgres --if-exists "$db"
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
store_ticks() {
  local sum=0
  for p in $(pgrep -d' ' -x "$1"); do sum=$((sum + $(ticks "$p"))); done
  echo "$sum"
}
sample() {
  local s0 d0 r0 s1 d1 r1 hz
  hz=$(getconf CLK_TCK)
  s0=$(ticks "$pid"); d0=$(store_ticks postgres); r0=$(store_ticks redis-server)
  if [ -n "${PERF_OUT:-}" ]; then perf record -F 499 -g -o "$PERF_OUT" -p "$pid" -- sleep 5 >/dev/null 2>&1
  else sleep 5; fi
  s1=$(ticks "$pid"); d1=$(store_ticks postgres); r1=$(store_ticks redis-server)
  echo "cpu: server $(( (s1 - s0) * 100 / hz / 5 ))% of a core; postgres $(( (d1 - d0) * 100 / hz / 5 ))%; redis $(( (r1 - r0) * 100 / hz / 5 ))%"
}
args=("${@//SERVER_PID/$pid}")
"$loadgen" --url "http://127.0.0.1:$port" "${args[@]}" 2>&1 | while IFS= read -r line; do
  echo "$line"
  case $line in *connected*) [ -n "${PGSS:-}" ] && [ -n "$db" ] && pgss reset; sleep 2; sample & ;; esac
done
