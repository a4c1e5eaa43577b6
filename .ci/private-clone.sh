#!/usr/bin/env bash
# The two commands from a copy of the working tree inside a mode-700 directory, as a clone in root's
# home is in most containers and CI images: the service must start and answer, and an e2e spec
# (with the PostgreSQL the suite starts) must pass. node_modules is hard-linked, not installed again.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOKEN=ci-private-clone-bootstrap-token

# Inside the tree, so hard links stay on one filesystem; mktemp -d creates it mode 700.
PRIVATE=$(mktemp -d "$ROOT/.ci-private-XXXXXX")
chmod 700 "$PRIVATE"
CLONE=$PRIVATE/leeway
SERVICE_PID=
cleanup() {
  if [[ -n $SERVICE_PID ]] && kill -0 "$SERVICE_PID" 2>/dev/null; then
    kill -TERM "$SERVICE_PID"
    wait "$SERVICE_PID" || true
  fi
  rm -rf "$PRIVATE"
}
trap cleanup EXIT

mkdir "$CLONE"
tar -C "$ROOT" --exclude=./node_modules --exclude=./.git --exclude=./dist --exclude=./.leeway \
  --exclude='./.ci-private-*' -cf - . | tar -C "$CLONE" -xf -
cp -al "$ROOT/node_modules" "$CLONE/node_modules"
cd "$CLONE"
echo "== in $CLONE (parent mode $(stat -c %a "$PRIVATE"), as $(id -un))"

npm run build --silent
PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
LEEWAY_BOOTSTRAP_TOKEN=$TOKEN PORT=$PORT node dist/src/main.js >"$PRIVATE/service.log" 2>&1 &
SERVICE_PID=$!
for _ in $(seq 120); do
  if ! kill -0 "$SERVICE_PID" 2>/dev/null; then
    echo "== the service exited during start-up:"
    cat "$PRIVATE/service.log"
    exit 1
  fi
  curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break
  sleep 1
done
ME=$(curl -sS --fail-with-body "http://127.0.0.1:$PORT/v1/me" -H "authorization: Bearer $TOKEN") || {
  echo "== GET /v1/me failed: $ME"
  cat "$PRIVATE/service.log"
  exit 1
}
echo "== service answered /v1/me: $ME"
kill -TERM "$SERVICE_PID"
wait "$SERVICE_PID" || { echo "== the service did not stop cleanly"; cat "$PRIVATE/service.log"; exit 1; }
SERVICE_PID=

# The path before --selectProjects: that option takes a list and would swallow it.
npx jest test/smoke.e2e-spec.ts --selectProjects e2e
