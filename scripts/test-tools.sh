#!/usr/bin/env bash
# Programs the test suite runs besides Node: docker-compose (Debian's 1.29, which validates
# docker-compose.dev.yml against the Compose schema with `config`; no Docker engine needed) and
# Debian's Chromium at /usr/bin/chromium (the web app's end-to-end tests drive it with playwright-core).
# Installs what is missing from Debian's packages when run as root; otherwise says what to install.
set -euo pipefail
missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
((${#missing[@]} == 0)) && exit 0
if [[ -r /etc/debian_version && $(id -u) -eq 0 ]]; then
  echo "[test-tools] installing ${missing[*]} (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  echo "[test-tools] the tests need: ${missing[*]} (Debian: apt-get install ${missing[*]})" >&2
  exit 1
fi
