#!/usr/bin/env bash
# Fuzz a freshly started server with the Schemathesis CLI and ./schemathesis.toml (every
# check, every phase): first as an ordinary client, then as an admin.
# Usage: scripts/fuzz.sh [extra schemathesis args]. FUZZ_PORT (8765) is where that server
# listens, FUZZ_RECEIVER_PORT (8766) the loopback receiver its destinations point at,
# FUZZ_EXAMPLES (the toml's 50) the examples per operation.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${FUZZ_PORT:-8765}
export FUZZ_RECEIVER_PORT=${FUZZ_RECEIVER_PORT:-8766}
WORK=$(mktemp -d -t fuzz.XXXXXX)
LOG=$WORK/server.log
# A database of its own, so fuzzing never touches the one `make run` uses; the test
# suite's clients (Alice, Bob, ...) in it, and limits high enough not to get in the way.
export APP_ENVIRONMENT=test APP_DATABASE_URL="sqlite:///$WORK/fuzz.db"
export APP_SECRET_KEY=fuzz-secret-0123456789-0123456789-0123456789
export APP_RATE_LIMIT=1000000/minute APP_RATE_LIMIT_ANONYMOUS=1000000/minute
export APP_RATE_LIMIT_TOKEN=1000000/minute
# Destinations may only point at the receiver the hooks start: no fuzzed request makes the
# gateway send anything anywhere else.
export APP_DISPATCH_ALLOWED_HOSTS="[\"127.0.0.1:$FUZZ_RECEIVER_PORT\"]"
$BIN/python -m server migrate 2>>"$LOG"
# Requests go as Alice; the object-level authorization check replays them as Bob.
PYTHONPATH=. $BIN/python -m tests.identities "$APP_DATABASE_URL" "$WORK"

$BIN/python -m uvicorn server.asgi:app \
  --host 127.0.0.1 --port "$PORT" --log-level warning >>"$LOG" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT

for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$PORT/api/hello" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 0.1
done

# As Alice: the repository's schemathesis.toml with its API-key table swapped for the
# auth file that also names Bob, for the object-level check (Schemathesis takes one
# authentication method, not both). As an admin: the repository's file as it is.
awk '/^\[auth\.openapi\./ {skip=1; next} /^\[/ {skip=0} !skip' schemathesis.toml \
  | cat - "$WORK/wfc.toml" > "$WORK/alice.toml"
cp schemathesis.toml "$WORK/admin.toml"
EXTRA=()
[ -n "${FUZZ_EXAMPLES:-}" ] && EXTRA+=(--max-examples "$FUZZ_EXAMPLES")
status=0
for who in alice admin; do
  echo "== as $who"
  # shellcheck disable=SC1090
  source "$WORK/$who.env"
  $BIN/schemathesis --config-file "$WORK/$who.toml" run \
    "http://127.0.0.1:$PORT/api/openapi.json" "${EXTRA[@]}" "$@" || status=1
done
echo "server log: $LOG"
exit $status
