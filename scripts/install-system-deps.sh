#!/usr/bin/env bash
# Installs the Debian packages a test suite needs, only those missing. Safe to re-run.
# Usage: scripts/install-system-deps.sh [suite...]   (suites: the files in scripts/apt/; none = all of them)
# Set PORTHOLE_SKIP_APT=1 to skip (e.g. when you manage packages yourself).
set -euo pipefail
[ "${PORTHOLE_SKIP_APT:-0}" = 1 ] && exit 0
here="$(cd "$(dirname "$0")" && pwd)"

suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
  for f in "$here"/apt/*.txt; do suites+=("$(basename "$f" .txt)"); done
fi
packages=()
for suite in "${suites[@]}"; do
  list="$here/apt/$suite.txt"
  [ -f "$list" ] || { echo "install-system-deps: no package list $list" >&2; exit 2; }
  while read -r p _; do
    [ -n "$p" ] && [ "${p#\#}" = "$p" ] && packages+=("$p")
  done <"$list"
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages (${suites[*]}): all present"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
