#!/usr/bin/env bash
# Installs the Debian packages a test suite or the demo needs, only those missing. Safe to re-run.
# Usage: scripts/install-system-deps.sh [suite...]   (suites: the files in scripts/apt/; none = all of them)
#
# `npm test` and `npm run demo` call it first, so a fresh Debian/Ubuntu machine needs nothing but Node
# and npm. It installs as root, or through `sudo -n` when sudo needs no password; it never asks for
# one (a run without a terminal would hang). Otherwise it stops, printing the command to run and
# what each package is for. When everything is there it is one dpkg-query call, no apt-get.
# Set PORTHOLE_SKIP_APT=1 to skip it (e.g. when you manage packages yourself).
set -euo pipefail
[ "${PORTHOLE_SKIP_APT:-0}" = 1 ] && exit 0
here="$(cd "$(dirname "$0")" && pwd)"

suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
  for f in "$here"/apt/*.txt; do suites+=("$(basename "$f" .txt)"); done
fi
packages=()
declare -A why=()
for suite in "${suites[@]}"; do
  list="$here/apt/$suite.txt"
  [ -f "$list" ] || { echo "install-system-deps: no package list $list" >&2; exit 2; }
  while read -r p rest; do
    [ -n "$p" ] && [ "${p#\#}" = "$p" ] || continue
    packages+=("$p")
    reason="${rest#\#}"
    reason="${reason#"${reason%%[![:space:]]*}"}"
    [ -n "$reason" ] && [ -z "${why[$p]:-}" ] && why[$p]="$reason"
  done <"$list"
done
# shellcheck disable=SC2207
packages=($(printf '%s\n' "${packages[@]}" | sort -u))

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  echo "install-system-deps: not a Debian/Ubuntu system; make sure the equivalents of these are installed:" >&2
  echo "  ${packages[*]}" >&2
  exit 0
fi

# One dpkg-query for all of them: the no-op case must stay fast (npm test runs this every time).
installed="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${packages[@]}" 2>/dev/null || true)"
missing=()
for p in "${packages[@]}"; do
  grep -qx "$p ii " <<<"$installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  [ "${PORTHOLE_APT_QUIET:-0}" = 1 ] || echo "system packages (${suites[*]}): all present"
  exit 0
fi

describe() {
  for p in "${missing[@]}"; do
    printf '  %-22s %s\n' "$p" "${why[$p]:-}"
  done
}

SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    {
      echo "porthole needs these Debian packages (lists in scripts/apt/: ${suites[*]}), and they are missing:"
      describe
      echo
      echo "Install them as root (this script does it itself when run as root or when sudo needs no password):"
      echo
      echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
      echo
      echo "or: sudo bash scripts/install-system-deps.sh ${suites[*]}   (PORTHOLE_SKIP_APT=1 skips this check)"
    } >&2
    exit 1
  fi
fi
echo "system packages (${suites[*]}): installing ${missing[*]}"
describe
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
