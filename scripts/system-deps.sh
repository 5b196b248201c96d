#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: Chromium for
# browser tests, nats-server for distributed tests, Swift's S3 API for the
# archive's S3 round trip. On machines without apt (or without root) it says
# what is missing and leaves the related tests to skip with that reason.
set -euo pipefail
packages=(chromium wrk nats-server memcached swift swift-proxy swift-account swift-container swift-object)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: missing Debian packages (${missing[*]}); tests that need them will skip"
fi
