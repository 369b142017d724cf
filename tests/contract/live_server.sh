# Sourced by the contract scripts: start a chat-server from a binary on a free port with a fresh store, and
# stop it. `start_server BINARY sqlite|postgres` sets SERVER_URL, SERVER_LOG and SERVER_PID; postgres takes a
# fresh database from TEST_DATABASE_URL and the broker from TEST_REDIS_URL. `stop_server` ends and removes both.
# CONTRACT_RUST_LOG sets the server's log level (default warn).

SERVER_URL="" SERVER_LOG="" SERVER_PID="" SERVER_WORK="" SERVER_DATABASE=""

start_server() {
  local binary=$1 backend=$2 port
  [[ -x "$binary" ]] || { echo "FATAL: no server binary at $binary" >&2; return 1; }
  SERVER_WORK=$(mktemp -d)
  SERVER_LOG="$SERVER_WORK/server.log"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  SERVER_URL="http://127.0.0.1:$port"
  # Limits meant for people would turn a test's burst into 429s; these runs are about the contract.
  local env=(CHAT_BIND="127.0.0.1:$port" CHAT_DATA_DIR="$SERVER_WORK" CHAT_WEB_DIR=/nonexistent RUST_LOG=${CONTRACT_RUST_LOG:-warn}
    CHAT_AUTH_PER_MINUTE=1000000 CHAT_REST_PER_SECOND=1000000 CHAT_WS_UPGRADES_PER_MINUTE_PER_USER=1000000
    CHAT_WS_UPGRADES_PER_MINUTE_PER_ADDRESS=1000000 CHAT_ACCESS_TOKEN_TTL_SECS=3600)
  case "$backend" in
    sqlite) env+=(DATABASE_URL="sqlite://$SERVER_WORK/chat.db") ;;
    postgres)
      [[ -n "${TEST_DATABASE_URL:-}" && -n "${TEST_REDIS_URL:-}" ]] ||
        { echo "FATAL: postgres needs TEST_DATABASE_URL and TEST_REDIS_URL" >&2; return 1; }
      SERVER_DATABASE="chat_test_contract_$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
      psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $SERVER_DATABASE" >/dev/null
      local pg_url
      pg_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' \
        "$TEST_DATABASE_URL" "$SERVER_DATABASE")
      env+=(DATABASE_URL="$pg_url" REDIS_URL="$TEST_REDIS_URL" CHAT_REDIS_PREFIX="$SERVER_DATABASE") ;;
    *) echo "FATAL: unknown backend $backend" >&2; return 1 ;;
  esac
  env "${env[@]}" "$binary" > "$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do curl -sf -o /dev/null "$SERVER_URL/healthz" && return 0; sleep 0.1; done
  cat "$SERVER_LOG" >&2
  echo "FATAL: the server did not start on $backend" >&2
  return 1
}

stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  # CONTRACT_LOG_DIR keeps each server's whole log, for a failure the last lines do not explain.
  if [[ -n "${CONTRACT_LOG_DIR:-}" && -f "$SERVER_LOG" ]]; then
    cp "$SERVER_LOG" "$CONTRACT_LOG_DIR/server-$(date +%s).log"
  fi
  if [[ -n "$SERVER_DATABASE" ]]; then
    psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $SERVER_DATABASE WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  [[ -n "$SERVER_WORK" ]] && rm -rf "$SERVER_WORK"
  SERVER_PID="" SERVER_DATABASE="" SERVER_WORK=""
}

# Fails when the server panicked during the run (a panic inside a handler can still end in a clean answer).
server_did_not_panic() {
  if grep -q 'panicked' "$SERVER_LOG"; then
    grep -n -A5 'panicked' "$SERVER_LOG" | head -40 >&2
    return 1
  fi
}
