#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the status-page browser test
# (test/server/page.test.ts drives /usr/bin/chromium through playwright-core; no browser
# download). fonts-* so text renders in screenshots without pulling the recommended
# desktop stack. Idempotent: does nothing when the binary is already there.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
  echo "chromium: already installed ($("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"))"
  exit 0
fi

SUDO=""
if [[ "$(id -u)" != 0 ]]; then SUDO="sudo"; fi

# Another installer (e.g. the one for promtool) may hold the dpkg lock; wait for it.
APT_OPTS=(-o DPkg::Lock::Timeout=600)
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get "${APT_OPTS[@]}" update
$SUDO apt-get "${APT_OPTS[@]}" install -y --no-install-recommends chromium fonts-liberation fonts-dejavu-core

"$CHROMIUM" --version
