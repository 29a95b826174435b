#!/usr/bin/env bash
# Installs the Debian packages porthole's test suites use, only those missing. Safe to re-run.
# Set PORTHOLE_SKIP_APT=1 to skip (e.g. when you manage packages yourself).
set -euo pipefail
[ "${PORTHOLE_SKIP_APT:-0}" = 1 ] && exit 0

packages=(${PORTHOLE_APT_PACKAGES:-})
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
