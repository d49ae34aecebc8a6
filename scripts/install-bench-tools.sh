#!/usr/bin/env bash
# Installs the benchmark's tools from Debian when missing: nginx (fast upstream and the reference
# reverse proxy) and wrk (load generator). The benchmark falls back to a Node upstream and
# autocannon when this is not possible (not root, no apt).
set -uo pipefail
need=()
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[bench] cannot install ${need[*]} (needs root and apt-get); using fallbacks" >&2
  exit 0
fi
echo "[bench] installing ${need[*]}" >&2
DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || echo "[bench] install failed; using fallbacks" >&2
exit 0
