#!/usr/bin/env bash
# Installs what cotrain needs from Debian's packages, only what is missing, so that
# `make test` and `make demo` work on a fresh Debian 12 machine. Idempotent.
set -euo pipefail
# libopenblas0-pthread matters: without it LibTorch falls back to the reference BLAS,
# which makes every matrix product about 10x slower.

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libgloo-dev libdnnl-dev libopenblas0-pthread
  nlohmann-json3-dev libcli11-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libstb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-torch python3-numpy
  jq  # examples: results tables
  libcpp-httplib-dev chromium wrk  # search service; browser tests (headless); load test
  libfaiss-dev  # search service: approximate index (optional; exact search works without)
)
# npm fetches the pinned public data sets. Machines that already have Node.js from
# elsewhere (NodeSource ships npm inside its nodejs) must not get Debian's npm,
# which conflicts with it.
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
