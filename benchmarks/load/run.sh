#!/usr/bin/env bash
# The load benchmark: the portal, then a bare Flask page of the dashboard's size, each served by
# gunicorn on 127.0.0.1 with the same settings and driven by locust (20 users, no think time;
# THINK="1,3" for a pause of 1 to 3 s between a user's pages).
#
#   PORTAL_INSTANCE=... [PORTAL_DATABASE_URL=...] [THINK=MIN,MAX] \
#       benchmarks/load/run.sh TARGETS.json OUTDIR [SECONDS]
#
# TARGETS.json comes from targets.py. SECONDS (default 60) is the measured window; locust runs
# 45 s longer to let the 20 users sign in first (argon2), and resets its statistics when the
# last one is in. Results: OUTDIR/portal_stats.csv, OUTDIR/bare_stats.csv, OUTDIR/summary.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGETS=$(realpath "$1"); OUT=$(realpath -m "$2"); SECS=${3:-60}
GUNICORN_ARGS=${GUNICORN_ARGS:-"-w 2 -k gthread --threads 4"}
mkdir -p "$OUT"
echo "${THINK:-}" >"$OUT/think.txt"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# shellcheck disable=SC2086
.venv/bin/gunicorn $GUNICORN_ARGS -b 127.0.0.1:8101 wsgi:app >"$OUT/portal-gunicorn.log" 2>&1 &
pids+=($!)
GUNICORN_PID=$!
sleep 4
# Memory: the gunicorn master and workers' resident set, summed, once a second (peak reported).
( while kill -0 "$GUNICORN_PID" 2>/dev/null; do
    ps -o rss= --ppid "$GUNICORN_PID" -p "$GUNICORN_PID" | awk '{s+=$1} END {print s}'
    sleep 1
  done ) >"$OUT/portal-rss-kb.txt" 2>/dev/null &
pids+=($!)
(cd benchmarks/load && LOCUST_TARGETS="$TARGETS" LOCUST_EXPECT_USERS=20 LOCUST_THINK="${THINK:-}" \
    ../../.venv/bin/locust \
    -f locustfile.py --headless -u 20 -r 20 -t $((SECS + 45))s -H http://127.0.0.1:8101 \
    --csv "$OUT/portal" --only-summary DSL Staff Adviser) >"$OUT/portal-locust.log" 2>&1
kill "${pids[0]}"; sleep 2

BYTES=$(.venv/bin/python -c "
import csv,sys
rows={r['Name']: r for r in csv.DictReader(open('$OUT/portal_stats.csv'))}
print(int(float(rows['dashboard']['Average Content Size'])))")
echo "bare page size: $BYTES bytes (the dashboard's average)" | tee "$OUT/bare-size.txt"
# shellcheck disable=SC2086
BARE_BYTES=$BYTES .venv/bin/gunicorn $GUNICORN_ARGS -b 127.0.0.1:8102 --chdir benchmarks/load \
    bare_app:app >"$OUT/bare-gunicorn.log" 2>&1 &
pids+=($!)
sleep 3
(cd benchmarks/load && ../../.venv/bin/locust -f locustfile.py --headless -u 20 -r 20 \
    -t "${SECS}s" -H http://127.0.0.1:8102 --csv "$OUT/bare" --only-summary BareUser) \
    >"$OUT/bare-locust.log" 2>&1
.venv/bin/python benchmarks/load/summarize.py "$OUT" | tee "$OUT/summary.md"
