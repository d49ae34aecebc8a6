#!/usr/bin/env bash
# Makes sure a ClamAV daemon binary (`clamd`, Debian package clamav-daemon) is installed, for the
# upload tests and the quick start. It does not start a daemon and never downloads signatures
# (freshclam): tests start their own clamd with a signature database they write themselves.
set -uo pipefail
command -v clamd >/dev/null 2>&1 || [ -x /usr/sbin/clamd ] && exit 0
echo "[ensure-clamav] installing clamav-daemon" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends clamav-daemon >/dev/null 2>&1
[ -x /usr/sbin/clamd ] || { echo "[ensure-clamav] clamd is not available" >&2; exit 1; }
