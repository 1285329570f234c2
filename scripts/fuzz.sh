#!/usr/bin/env bash
# Fuzz a freshly started server with the Schemathesis CLI: every check, every phase.
# Usage: scripts/fuzz.sh [extra schemathesis args]; FUZZ_PORT and FUZZ_EXAMPLES override.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${FUZZ_PORT:-8765}
EXAMPLES=${FUZZ_EXAMPLES:-200}
WORK=$(mktemp -d -t fuzz.XXXXXX)
LOG=$WORK/server.log
# A database of its own, so fuzzing never touches the one `make run` uses; the test
# suite's clients (Alice, Bob, ...) in it, and limits high enough not to get in the way.
export APP_ENVIRONMENT=test APP_DATABASE_URL="sqlite:///$WORK/fuzz.db"
export APP_SECRET_KEY=fuzz-secret-0123456789-0123456789-0123456789
export APP_RATE_LIMIT=1000000/minute APP_RATE_LIMIT_ANONYMOUS=1000000/minute
# Destinations may only point at a loopback port where nothing listens: no fuzzed request
# makes the gateway send anything off this machine.
export APP_DISPATCH_ALLOWED_HOSTS='["127.0.0.1:9"]'
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

# Same case preparation as the test suite (unique Idempotency-Keys, no forged cursors/ETags).
PYTHONPATH=. SCHEMATHESIS_HOOKS=tests.contract.fuzz_hooks \
$BIN/schemathesis --config-file "$WORK/schemathesis.toml" run "http://127.0.0.1:$PORT/api/openapi.json" \
  --checks all --mode all --max-examples "$EXAMPLES" --seed 1 \
  --generation-deterministic --request-timeout 5 "$@"
echo "server log: $LOG"
