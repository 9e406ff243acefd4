#!/usr/bin/env bash
# Installs Debian's Prometheus and Alertmanager (which bring promtool and amtool) for the
# deploy tests (test/deploy/) and the integration tests that run a real Prometheus.
#
#   bash scripts/deploy/install-prometheus.sh
#
# Idempotent: does nothing when promtool, amtool and prometheus-alertmanager are already on
# PATH. Never leaves package-started daemons behind: the tests start their own servers on
# ports of their choosing, and a system Prometheus on :9090 / Alertmanager on :9093 would
# collide with them (and with docker-compose's published ports).
set -euo pipefail

have_all() {
  command -v prometheus >/dev/null 2>&1 &&
    command -v promtool >/dev/null 2>&1 &&
    command -v prometheus-alertmanager >/dev/null 2>&1 &&
    command -v amtool >/dev/null 2>&1
}

if have_all; then
  echo "install-prometheus: already installed ($(promtool --version 2>&1 | head -n 1))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-prometheus: must run as root (apt-get install); try: sudo bash $0" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-prometheus: needs a Debian/Ubuntu system with apt-get" >&2
  exit 1
fi

# The packages' maintainer scripts start their services through invoke-rc.d /
# deb-systemd-invoke, which ask /usr/sbin/policy-rc.d first; exit code 101 means "don't".
# Put one in place for the duration of the install unless the system already has one.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# temporary, from klaxon scripts/deploy/install-prometheus.sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi
cleanup() {
  if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# --no-install-recommends: leaves out prometheus-node-exporter (another daemon, on :9100).
apt-get install -y -q --no-install-recommends prometheus prometheus-alertmanager

# Belt and braces: should an init system have started the services anyway (a policy-rc.d
# that allowed it), stop them and keep them from starting at boot.
for svc in prometheus prometheus-alertmanager; do
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    service "$svc" stop >/dev/null 2>&1 || true
  fi
done

if ! have_all; then
  echo "install-prometheus: installed, but promtool/amtool/prometheus-alertmanager are not on PATH" >&2
  exit 1
fi
echo "install-prometheus: installed $(promtool --version 2>&1 | head -n 1)"
echo "install-prometheus: $(prometheus-alertmanager --version 2>&1 | head -n 1)"
