#!/usr/bin/env bash
# The weekly operations review at scale (README "Operations review"): on the tickets that
# bench/tickets.sh generates (its `gen` step; the generator writes with the triggers off, as a
# bulk load does), this
#   1. builds the rollups from the tickets and the event log (`SELECT ops_rebuild()`), timed;
#   2. serves the release build and times GET /api/v1/reports/ops-review for one month over
#      HTTP (RUNS requests one after another, as `coord`: median and slowest), the CSV and the
#      HTML page once each, and one month's drill-down page;
#   3. EXPLAIN (ANALYZE, BUFFERS) of the rollup sums, the costliest statement of a review.
# Figures go to $OUT/figures.txt; the database is dropped at the end unless KEEP=1.
#
# Usage: bench/ops_review.sh [tickets]          (default 10000000)
#   REUSE=1      keep an already generated database (TICKETS_DB, default gmud_tickets_bench)
#   GMUD_BIN=…   the release build (default: builds it)
#   FROM=2026-10-01 TO=2026-10-31   the month reviewed; RUNS=20
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-10000000}
db=${TICKETS_DB:-gmud_tickets_bench}
now=${NOW:-2026-11-30T15:00:00Z}
from=${FROM:-2026-10-01}
to=${TO:-2026-10-31}
runs=${RUNS:-20}
out=${OUT:-/tmp/gmud-ops-review}
port=${BENCH_PORT:-18082}
pg=postgres://postgres@127.0.0.1:5432
api=http://127.0.0.1:$port
mkdir -p "$out"
if [ -n "${GMUD_BIN:-}" ]; then
  bin=$GMUD_BIN
else
  cargo build --release --locked -p gmud-api >/dev/null
  bin=${CARGO_TARGET_DIR:-target}/release/gmud
fi
q() { psql "$pg/$db" -X -v ON_ERROR_STOP=1 -Atq "$@"; }
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }
fig() { echo "$1 $2" | tee -a "$out/figures.txt"; }
echo "== $(date -u +%FT%TZ) $total tickets, month $from..$to" >>"$out/figures.txt"

server=
stop_server() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; fi; }
cleanup() {
  stop_server
  if [ "${KEEP:-0}" != 1 ]; then psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"; fi
}
trap cleanup EXIT

if [ "${REUSE:-0}" != 1 ] || [ -z "$(psql "$pg/postgres" -Atc "select 1 from pg_database where datname = '$db'")" ]; then
  # Only the generator of bench/tickets.sh; its database is ours to drop.
  KEEP=1 STEPS=gen TICKETS_DB=$db GMUD_BIN=$bin NOW=$now OUT=$out bash bench/tickets.sh "$total"
fi

echo "== rollups from $(q -c "SELECT count(*) FROM tickets") tickets"
t0=$(date +%s.%N)
q -c "SELECT ops_rebuild()" >/dev/null
fig ops_rebuild_s "$(secs_since "$t0")"
q -c "VACUUM ANALYZE ops_daily, ops_daily_escalations"
fig ops_daily_rows "$(q -c "SELECT count(*) FROM ops_daily")"
fig incidents_in_month "$(q -c "SELECT sum(opened) FROM ops_daily WHERE day BETWEEN '$from' AND '$to'")"

echo "== the review over HTTP"
DATABASE_URL=$pg/$db GMUD_BIND=127.0.0.1:$port GMUD_CLOCK_START=$now GMUD_TOKEN_TTL_MINUTES=120 \
  GMUD_JOB_WORKERS=0 GMUD_MAIL_DIR=$(mktemp -d) RUST_LOG=warn "$bin" serve --demo >>"$out/server.log" 2>&1 &
server=$!
for _ in $(seq 1 240); do curl -sf $api/ready >/dev/null && break; sleep 0.5; done
token=$(curl -s $api/api/v1/auth/token -H 'content-type: application/json' \
  -d '{"username":"coord","password":"gmud-demo"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
url="$api/api/v1/reports/ops-review?from=$from&to=$to"
timed() { curl -s -o "$out/last.out" -w '%{http_code} %{time_total}\n' -H "authorization: Bearer $token" "$1"; }
first=$(timed "$url")
[ "${first%% *}" = 200 ] || { echo "the review answered $first: $(cat "$out/last.out")"; exit 1; }
fig review_first_ms "$(echo "$first" | awk '{printf "%.0f", $2 * 1000}')"
for _ in $(seq 1 "$runs"); do timed "$url"; done | awk '{print $2 * 1000}' | sort -n >"$out/review-ms.txt"
fig review_median_ms "$(awk '{a[NR] = $1} END {printf "%.0f", a[int((NR + 1) / 2)]}' "$out/review-ms.txt")"
fig review_max_ms "$(tail -n 1 "$out/review-ms.txt" | awk '{printf "%.0f", $1}')"
fig review_opened "$(grep -o '"key":"opened","label":"[^"]*","value":[0-9.]*' "$out/last.out" | head -1 | sed 's/.*://')"
fig csv_ms "$(timed "$api/api/v1/reports/ops-review.csv?from=$from&to=$to" | awk '{printf "%s %.0f", $1, $2 * 1000}')"
html=$(curl -s -H "authorization: Bearer $token" "$url" | sed -E 's/.*"html_url":"([^"]+)".*/\1/')
fig html_page_ms "$(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$html" | awk '{printf "%s %.0f", $1, $2 * 1000}')"
fig drill_opened_ms "$(timed "$api/api/v1/reports/ops-review/drill-down?figure=opened&from=$from&to=$to" | awk '{printf "%s %.0f", $1, $2 * 1000}')"
stop_server

echo "== the rollup sums, explained"
q >"$out/sums-plan.txt" <<SQL
EXPLAIN (ANALYZE, BUFFERS)
$(awk '/^const SUMS: &str = "\\$/ {on = 1; next} on {if (/";$/) {sub(/";$/, ""); print; exit} print}' api/src/reports/mod.rs |
  sed "s/\$1/'$from'::date/g; s/\$2/'$to'::date/g; s/\$3::bigint/NULL::bigint/g; s/\$4::bigint/NULL::bigint/g; s/= \$3/= NULL/; s/= \$4/= NULL/")
SQL
grep -E '^(Planning|Execution) Time' "$out/sums-plan.txt" | paste -sd ' ' | tee -a "$out/figures.txt"
