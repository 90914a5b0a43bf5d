#!/usr/bin/env bash
# Load benchmark: the release server under wrk, next to pgbench running the *least* SQL that
# does the same work (one statement each) and, as a second line, the API's own statements; on
# the same machine in the same run. Not part of the tests. Needs wrk, hey (apt-get install wrk
# hey) and pgbench.
#
# Usage: bench/load.sh [seconds] [connections]
#   GMUD_BIN=/path/to/gmud bench/load.sh   measures another build (e.g. the one before a change)
#                                          the same way, on a database it creates itself.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
conns=${2:-32}
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

psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
DATABASE_URL=$pg/$db GMUD_BIND=127.0.0.1:$port GMUD_JWT_SECRET=bench-secret-bench-secret-bench-secret \
  GMUD_TOKEN_TTL_MINUTES=60 RUST_LOG=warn GMUD_DB_POOL_SIZE=32 GMUD_MAIL_DIR=$(mktemp -d) \
  "$bin" serve --demo >/tmp/gmud-bench.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf $api/ready >/dev/null && break; sleep 0.5; done
export TOKEN=$(curl -s $api/api/v1/auth/token -H 'content-type: application/json' \
  -d '{"username":"tester","password":"gmud-demo"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
tester=$(psql "$pg/$db" -Atc "select id from users where username = 'tester'")

# wrk's summary: requests per second, p50 and p99 latency.
wrk_line() { awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%.0f req/s, p50 %s, p99 %s", rps, p50, p99}'; }
pgb_line() { awk '/^tps/ {printf "%.0f tps", $3} /latency average/ {printf ", avg %s ms", $4}'; }

echo "== $("$bin" --version 2>/dev/null || echo gmud) on $db, ${secs}s, $conns connections"
create=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/create.lua $api/api/v1/rdms | wrk_line)
echo "API create RDM (POST /api/v1/rdms):      $create"
export MAX_ID=$(psql "$pg/$db" -Atc 'select max(id) from rdms')
read=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/read.lua $api | wrk_line)
echo "API read RDM (GET /api/v1/rdms/{id}):    $read   ($MAX_ID rows)"
peak=$(echo "$read" | awk '{print $1}')
half=$((peak / 2))
workers=16
per=$(( (half + workers - 1) / workers ))
hey_out=$(hey -z "${secs}s" -c $workers -q $per -H "Authorization: Bearer $TOKEN" "$api/api/v1/rdms/1")
echo "API read at half its peak ($half req/s, hey -q): $(echo "$hey_out" | awk '/Requests\/sec/ {printf "%.0f req/s", $2} /  50% in/ {printf ", p50 %.1f ms", $3*1000} /  99% in/ {printf ", p99 %.1f ms", $3*1000}')"
windows=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $TOKEN" $api/api/v1/windows | wrk_line)
echo "API list windows (GET /api/v1/windows):  $windows"

# The least SQL for the same work, and the API's own statements, with the same concurrency.
# The API's driver prepares its statements: `-M prepared` is the like-for-like protocol.
if [ "$(psql "$pg/$db" -Atc "select to_regclass('events') is not null")" = t ]; then
  least_create=bench/least/create.sql; own_create=bench/own/create.sql; own_read=bench/own/read.sql
else
  least_create=bench/least/create-before.sql; own_create=bench/own/create-before.sql; own_read=bench/own/read-before.sql
fi
sed "s/, 5, now()/, $tester, now()/; s/ 5, NULL, now()/ $tester, NULL, now()/" $least_create > /tmp/least-create.sql
sed "s/, 5, now()/, $tester, now()/; s/ 5, NULL, now()/ $tester, NULL, now()/" $own_create > /tmp/own-create.sql
echo "pgbench least SQL, create:   $(pgbench -n -M prepared -c"$conns" -j2 -T"$secs" -f /tmp/least-create.sql "$pg/$db" 2>/dev/null | pgb_line)"
echo "pgbench least SQL, read:     $(pgbench -n -M prepared -c"$conns" -j2 -T"$secs" -D max_id="$MAX_ID" -f bench/least/read.sql "$pg/$db" 2>/dev/null | pgb_line)"
echo "pgbench API's own SQL, create: $(pgbench -n -M prepared -c"$conns" -j2 -T"$secs" -f /tmp/own-create.sql "$pg/$db" 2>/dev/null | pgb_line)"
echo "pgbench API's own SQL, read:   $(pgbench -n -M prepared -c"$conns" -j2 -T"$secs" -D max_id="$MAX_ID" -f $own_read "$pg/$db" 2>/dev/null | pgb_line)"
