#!/usr/bin/env bash
# Runs the fast suite (npx vitest run) several times in a row while busy loops keep every core taken:
# the check of design/RELIABILITY.md "The fast suite under load". One line per run goes to stdout and to
# <out>/results.txt; each run's whole output is kept in <out>/run-N.log. Stops at the first failing run
# (its log names the test) and exits 1; exits 0 when every run passed.
#
#   bash scripts/suite-under-load.sh [--runs N] [--out DIR] [--busy N] [-- VITEST_ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=20
out=build/suite-under-load
busy=$(nproc)
usage() {
  echo "usage: bash scripts/suite-under-load.sh [--runs N] [--out DIR] [--busy N] [-- VITEST_ARGS...]"
  echo "  --runs N   runs in a row to reach (default 20)"
  echo "  --out DIR  where results.txt and run-N.log go (default build/suite-under-load)"
  echo "  --busy N   busy loops beside the suite (default: one per core, $(nproc) here)"
  echo "  -- ARGS    passed to vitest, e.g. a test file to chase one flake (default: the whole fast suite)"
}
needs_value() { if [ "$1" -lt 2 ]; then echo "$2 needs a value" >&2; usage >&2; exit 2; fi; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) needs_value $# "$1"; runs="$2"; shift 2 ;;
    --out) needs_value $# "$1"; out="$2"; shift 2 ;;
    --busy) needs_value $# "$1"; busy="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$runs" "$busy"; do
  if ! [[ "$n" =~ ^[0-9]+$ ]]; then
    echo "not a count: '$n'" >&2; usage >&2; exit 2
  fi
done
if [ "$runs" -lt 1 ]; then echo "--runs must be at least 1" >&2; exit 2; fi
if [ -z "$out" ]; then echo "--out must name a directory" >&2; exit 2; fi

mkdir -p "$out"
loops=()
stop_loops() { [ ${#loops[@]} -eq 0 ] || kill "${loops[@]}" 2>/dev/null || true; }
trap stop_loops EXIT
for _ in $(seq 1 "$busy"); do
  node -e 'for (;;) {}' &
  loops+=($!)
done

echo "$(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null || echo '?') runs=$runs busy=$busy vitest args: ${*:-(none)}" | tee -a "$out/results.txt"
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  rc=0
  npx vitest run "$@" > "$out/run-$i.log" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$out/run-$i.log" | grep -E '^ *(Test Files|Tests) ' | tr -s ' ' | tr '\n' ' ' || true)
  echo "$(date -u +%TZ) run $i rc=$rc ${took}s load=[$load] $summary" | tee -a "$out/results.txt"
  if [ "$rc" -ne 0 ]; then
    echo "run $i failed after $((i - 1)) in a row: see $out/run-$i.log" | tee -a "$out/results.txt"
    exit 1
  fi
done
echo "$runs in a row passed" | tee -a "$out/results.txt"
