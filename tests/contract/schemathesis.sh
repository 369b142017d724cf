#!/usr/bin/env bash
# Property-based contract test: schemathesis generates requests from openapi/openapi.json (valid and invalid
# ones, then stateful sequences), sends them to a live chat-server and checks every answer against the spec:
# no server error, only documented statuses, headers and bodies, invalid data refused, valid data accepted,
# 405 with Allow. It runs once per backend: SQLite with the in-process broker, then PostgreSQL with Redis.
#
# usage: tests/contract/schemathesis.sh SERVER_BINARY [sqlite] [postgres]
# env:   SCHEMATHESIS  the CLI (default: the CI venv's); TEST_DATABASE_URL and TEST_REDIS_URL for postgres;
#        ST_MAX_EXAMPLES to change the bound set in tests/contract/schemathesis.toml.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/live_server.sh"
binary=${1:?usage: schemathesis.sh SERVER_BINARY [sqlite] [postgres]}
shift
backends=("$@")
[[ ${#backends[@]} -gt 0 ]] || backends=(sqlite postgres)
st=${SCHEMATHESIS:-$HOME/.cache/chat-ci-venv/bin/schemathesis}
[[ -x "$st" ]] || { echo "FATAL: schemathesis not found at $st" >&2; exit 1; }
trap stop_server EXIT

run_backend() {
  local backend=$1 rc=0 started=$SECONDS args=()
  start_server "$binary" "$backend"
  export ST_USER=schemathesis ST_PASSWORD="contract-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
  ST_TOKEN=$(curl -sf -X POST -H 'content-type: application/json' \
    -d "{\"username\":\"$ST_USER\",\"password\":\"$ST_PASSWORD\"}" "$SERVER_URL/api/auth/register" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') ||
    { echo "FATAL: could not register the test account" >&2; return 1; }
  export ST_TOKEN
  echo "--- schemathesis on $backend ($SERVER_URL)"
  [[ -n "${ST_MAX_EXAMPLES:-}" ]] && args+=(--max-examples "$ST_MAX_EXAMPLES")
  "$st" --config-file "$here/schemathesis.toml" --no-color run "$root/openapi/openapi.json" --url "$SERVER_URL" \
    "${args[@]}" || rc=$?
  server_did_not_panic || rc=1
  echo "--- schemathesis on $backend: exit $rc after $((SECONDS - started)) s"
  [[ $rc -eq 0 ]] || { echo "--- last server log lines"; tail -n 40 "$SERVER_LOG"; }
  stop_server
  return "$rc"
}

failed=()
for backend in "${backends[@]}"; do
  run_backend "$backend" || failed+=("$backend")
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "FATAL: schemathesis found failures on: ${failed[*]}" >&2
  exit 1
fi
echo "schemathesis: no failures on ${backends[*]}"
