#!/usr/bin/env bash
# Load benchmark: the release server under wrk, next to pgbench running the same SQL on the
# same machine. Not part of the tests. Needs wrk (apt-get install wrk) and pgbench.
# Usage: bench/load.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
conns=${2:-32}
port=18080
db=gmud_bench
pg=postgres://postgres@127.0.0.1:5432
command -v wrk >/dev/null || { echo "install wrk: apt-get install wrk"; exit 1; }

cargo build --release --locked -p gmud-api >/dev/null
psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
DATABASE_URL=$pg/$db GMUD_BIND=127.0.0.1:$port GMUD_JWT_SECRET=bench-secret-bench-secret-bench-secret \
  GMUD_TOKEN_TTL_MINUTES=60 RUST_LOG=warn GMUD_DB_POOL_SIZE=32 target/release/gmud serve --demo >/tmp/gmud-bench.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf http://127.0.0.1:$port/ready >/dev/null && break; sleep 0.5; done
export TOKEN=$(curl -s http://127.0.0.1:$port/api/v1/auth/token -H 'content-type: application/json' \
  -d '{"username":"tester","password":"gmud-demo"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

echo "== API: create RDMs (POST /api/v1/rdms), $conns connections, ${secs}s"
wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/create.lua http://127.0.0.1:$port/api/v1/rdms | sed -n '1,20p'
export MAX_ID=$(psql "$pg/$db" -Atc 'select max(id) from rdms')
echo "== API: read RDMs (GET /api/v1/rdms/{id}) over $MAX_ID rows"
wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/read.lua http://127.0.0.1:$port | sed -n '1,20p'

# pgbench in both protocols: the API's driver prepares its statements, so `prepared` is the
# like-for-like ceiling; `simple` is pgbench's default.
for mode in simple prepared; do
  echo "== pgbench ($mode): the same SQL as create"
  pgbench -n -M "$mode" -c"$conns" -j2 -T"$secs" -f bench/create.sql "$pg/$db" 2>/dev/null | grep -E 'tps|latency average'
  echo "== pgbench ($mode): the same SQL as read"
  pgbench -n -M "$mode" -c"$conns" -j2 -T"$secs" -D max_id="$MAX_ID" -f bench/read.sql "$pg/$db" 2>/dev/null | grep -E 'tps|latency average'
done
