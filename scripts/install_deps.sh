#!/usr/bin/env bash
# scripts/install_deps.sh: installs what freenas needs on Debian (bookworm) with apt, only the
# packages that are missing. Runs as root or through sudo.
#   bash scripts/install_deps.sh
set -euo pipefail
pkgs=(build-essential cmake pkg-config git libopenblas-dev libyaml-dev libjansson-dev openmpi-bin libopenmpi-dev jq
      libgsl-dev gnuplot-nox libnlopt-dev python3-pandas libdnnl-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install_deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
