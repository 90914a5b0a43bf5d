#!/usr/bin/env bash
# Load benchmark: the release server under wrk, next to pgbench running the *least* SQL that
# does the same work (one statement each) and, as a second line, the API's own statements; on
# the same machine in the same run. Not part of the tests. Needs wrk, hey (apt-get install wrk
# hey) and pgbench.
#
# The two cores are shared by the load tool, the server and PostgreSQL, and the figures move by
# a fifth from one minute to the next: so the API and pgbench alternate, ROUNDS times, and the
# summary gives the median of each figure and the ratios of the medians.
#
# Usage: bench/load.sh [seconds per run] [connections]
#   GMUD_BIN=/path/to/gmud bench/load.sh   measures another build (e.g. the one before a change)
#                                          the same way, on a database it creates itself.
#   ROUNDS=3 (default)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-32}
rounds=${ROUNDS:-3}
port=${BENCH_PORT:-18080}
db=${BENCH_DB:-gmud_bench}
pg=postgres://postgres@127.0.0.1:5432
api=http://127.0.0.1:$port
for tool in wrk hey pgbench; do
  command -v $tool >/dev/null || { echo "install $tool: apt-get install wrk hey (pgbench comes with PostgreSQL)"; exit 1; }
done
if [ -n "${GMUD_BIN:-}" ]; then
  bin=$GMUD_BIN
else
  cargo build --release --locked -p gmud-api >/dev/null
  bin=target/release/gmud
fi

psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null
DATABASE_URL=$pg/$db GMUD_BIND=127.0.0.1:$port GMUD_JWT_SECRET=bench-secret-bench-secret-bench-secret \
  GMUD_TOKEN_TTL_MINUTES=60 RUST_LOG=warn GMUD_DB_POOL_SIZE=32 GMUD_MAIL_DIR=$(mktemp -d) \
  "$bin" serve --demo >/tmp/gmud-bench.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf $api/ready >/dev/null && break; sleep 0.5; done
export TOKEN=$(curl -s $api/api/v1/auth/token -H 'content-type: application/json' \
  -d '{"username":"tester","password":"gmud-demo"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
tester=$(psql "$pg/$db" -Atc "select id from users where username = 'tester'")

if [ "$(psql "$pg/$db" -Atc "select to_regclass('events') is not null")" = t ]; then
  least_create=bench/least/create.sql; own_create=bench/own/create.sql; own_read=bench/own/read.sql
else
  least_create=bench/least/create-before.sql; own_create=bench/own/create-before.sql; own_read=bench/own/read-before.sql
fi
# The demo's requester id in this database.
sed "s/, 5, now()/, $tester, now()/; s/ 5, NULL, now()/ $tester, NULL, now()/" $least_create > /tmp/least-create.sql
sed "s/, 5, now()/, $tester, now()/; s/ 5, NULL, now()/ $tester, NULL, now()/; s/, 5, '{}'/, $tester, '{}'/" $own_create > /tmp/own-create.sql

# Figures, one per line: "name value".
out=$(mktemp)
wrk_rps() { awk '/Requests\/sec/ {printf "%.0f", $2}'; }
wrk_p() { awk -v p="$1" '$1 == p {print $2}'; }
pgb_tps() { awk '/^tps/ {printf "%.0f", $3}'; }
# The API's driver prepares its statements: `-M prepared` is the like-for-like protocol.
pgb() { pgbench -n -M prepared -c"$conns" -j2 -T"$secs" "$@" "$pg/$db" 2>/dev/null | pgb_tps; }

echo "== $bin on $db: $rounds rounds of ${secs}s runs, $conns connections"
for round in $(seq 1 "$rounds"); do
  w=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/create.lua $api/api/v1/rdms)
  echo "api_create $(echo "$w" | wrk_rps)" >>"$out"
  echo "pgbench_least_create $(pgb -f /tmp/least-create.sql)" >>"$out"
  echo "pgbench_own_create $(pgb -f /tmp/own-create.sql)" >>"$out"
  # The create runs just added tens of thousands of rows; autovacuum's ANALYZE lags behind,
  # and stale statistics turn the window listing's join into a parallel scan of rdm_items.
  psql "$pg/$db" -qc 'ANALYZE'
  export MAX_ID=$(psql "$pg/$db" -Atc 'select max(id) from rdms')
  w=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/read.lua $api)
  read_rps=$(echo "$w" | wrk_rps)
  echo "api_read $read_rps" >>"$out"
  echo "api_read_p99_full_load_ms $(echo "$w" | wrk_p '99%' | sed 's/ms//')" >>"$out"
  echo "pgbench_least_read $(pgb -D max_id="$MAX_ID" -f bench/least/read.sql)" >>"$out"
  echo "pgbench_own_read $(pgb -D max_id="$MAX_ID" -f $own_read)" >>"$out"
  # Half the read peak, rate-limited (hey -q is per worker): the latency a steady load sees.
  half=$((read_rps / 2)); workers=16; per=$(( (half + workers - 1) / workers ))
  h=$(hey -z "${secs}s" -c $workers -q $per -H "Authorization: Bearer $TOKEN" "$api/api/v1/rdms/$((MAX_ID / 2))")
  echo "api_read_half_rate $(echo "$h" | awk '/Requests\/sec/ {printf "%.0f", $2}')" >>"$out"
  echo "api_read_half_p50_ms $(echo "$h" | awk '/  50% in/ {printf "%.1f", $3*1000}')" >>"$out"
  echo "api_read_half_p99_ms $(echo "$h" | awk '/  99% in/ {printf "%.1f", $3*1000}')" >>"$out"
  w=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $TOKEN" $api/api/v1/windows)
  echo "api_windows $(echo "$w" | wrk_rps)" >>"$out"
  echo "api_windows_p50_ms $(echo "$w" | wrk_p '50%' | sed 's/ms//')" >>"$out"
  echo "round $round: $(grep -c . "$out") figures" >&2
done

median() { grep "^$1 " "$out" | awk '{print $2}' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
for name in api_create pgbench_least_create pgbench_own_create api_read pgbench_least_read pgbench_own_read \
    api_read_p99_full_load_ms api_read_half_rate api_read_half_p50_ms api_read_half_p99_ms api_windows api_windows_p50_ms; do
  printf '%-28s %s   (runs: %s)\n' "$name" "$(median $name)" "$(grep "^$name " "$out" | awk '{print $2}' | paste -sd ' ')"
done
awk -v c="$(median api_create)" -v lc="$(median pgbench_least_create)" -v r="$(median api_read)" -v lr="$(median pgbench_least_read)" \
  'BEGIN {printf "create: API / least SQL = %.2f; read: API / least SQL = %.2f\n", c / lc, r / lr}'
