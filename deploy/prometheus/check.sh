#!/usr/bin/env bash
# Lints the Prometheus files and runs the alert unit tests. Needs promtool (Debian: the
# `prometheus` package). Exits non-zero on the first problem.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found: apt-get install -y --no-install-recommends prometheus" >&2
  exit 127
fi

promtool --version | head -n 1
promtool check rules alerts.yml
# The compose file mounts the rules at /etc/prometheus; check the config against a copy that
# points at the file beside it.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp alerts.yml "$tmp/alerts.yml"
sed 's#/etc/prometheus/alerts.yml#alerts.yml#' prometheus.yml >"$tmp/prometheus.yml"
promtool check config "$tmp/prometheus.yml"
promtool test rules alerts.test.yml alerts.long.test.yml
