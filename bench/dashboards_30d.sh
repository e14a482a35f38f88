#!/usr/bin/env bash
# Times the dashboards' 30-day queries (issue 11): the fleet of
# tests/monitoring/dashboards_ranges_test.py (30 days of 1-minute bursts,
# CANARY_RANGES_TARGETS targets, default 20) is backfilled into a Prometheus
# on 127.0.0.1, and every dashboard query is run at a 30-day range with the
# step Grafana uses for a full-width panel, REPS times (default 5). Prints a
# Markdown table: median seconds and the samples Prometheus read
# (totalQueryableSamples). Reported, not asserted; the test asserts the
# sample limits.
#
# Usage: bench/dashboards_30d.sh [REPS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exec python3 "$root/tests/monitoring/dashboards_ranges_test.py" --bench "${1:-5}"
