#!/usr/bin/env bash
# The generated-client check: openapi-python-client builds a Python client from openapi/openapi.json (any
# warning fails: a piece left out of the client is a spec a generator cannot read), the client is installed
# into the venv, and python_client_smoke.py uses it against a live server on SQLite.
#
# usage: tests/contract/python_client.sh SERVER_BINARY
# env:   CHAT_VENV  the venv holding openapi-python-client (default: the CI venv)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/live_server.sh"
binary=${1:?usage: python_client.sh SERVER_BINARY}
venv=${CHAT_VENV:-$HOME/.cache/chat-ci-venv}
out=$(mktemp -d)
trap 'stop_server; rm -rf "$out"' EXIT

# The generator formats its output with ruff, which it finds on PATH.
PATH="$venv/bin:$PATH" "$venv/bin/openapi-python-client" generate --path "$root/openapi/openapi.json" \
  --config "$here/python-client.yaml" --meta setup --output-path "$out/client" > "$out/generate.log" 2>&1 ||
  { cat "$out/generate.log"; echo "FATAL: openapi-python-client failed" >&2; exit 1; }
if grep -qi 'warning' "$out/generate.log"; then
  cat "$out/generate.log"
  echo "FATAL: openapi-python-client could not read all of the spec" >&2
  exit 1
fi
echo "generated $(find "$out/client/chat_server_client/models" -name '*.py' | wc -l) model modules"
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$out/client"

start_server "$binary" sqlite
"$venv/bin/python" "$here/python_client_smoke.py" "$SERVER_URL"
server_did_not_panic
