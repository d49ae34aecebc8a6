#!/usr/bin/env bash
# CI step: audit Rampart's own lockfile against whatever OSV data this machine has.
# OSV data: $RAMPART_OSV_PATH (a directory or osv.dev's npm all.zip), else .rampart/osv.zip or
# .rampart/osv/ in the checkout. Without any, the step is skipped with a message, never failed:
# CI machines cannot download advisories. Findings rated high or critical fail the build
# (docs/dependencies.md explains the policy and how to accept a risk with --ignore).
set -euo pipefail
cd "$(dirname "$0")/.."
osv="${RAMPART_OSV_PATH:-}"
if [ -z "$osv" ]; then
  for candidate in .rampart/osv.zip .rampart/osv; do
    if [ -e "$candidate" ]; then osv="$candidate"; break; fi
  done
fi
if [ -z "$osv" ] || [ ! -e "$osv" ]; then
  echo "rampart audit --self: skipped, no OSV data configured (set RAMPART_OSV_PATH to a directory or all.zip of OSV records, or put one at .rampart/osv.zip)"
  exit 0
fi
echo "rampart audit --self against $osv"
node bin/rampart.js audit --self --osv "$osv" --fail-on high
