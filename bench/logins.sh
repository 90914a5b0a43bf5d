#!/usr/bin/env bash
# Login flood: 128 concurrent wrong passwords for an account that does not exist (no account
# needed to attack), against the release server, while a reader lists RDMs. Reports the
# server's peak and final memory (VmHWM, VmRSS), what the flood was answered, and the
# reader's latency before and during the flood. Not part of the tests. Needs hey.
#
# Run twice: with the address limit raised (GMUD_LOGINS_PER_ADDRESS_PER_MINUTE=1000000, the
# default here), so every request reaches the password check and only its bound
# (GMUD_PASSWORD_CHECKS) protects memory; and with the shipped limits (LIMITS=shipped), where
# the per-address throttle answers 429 first.
#
# Usage: bench/logins.sh [seconds] [concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
conc=${2:-128}
port=${BENCH_PORT:-18081}
db=${BENCH_DB:-gmud_bench_logins}
pg=postgres://postgres@127.0.0.1:5432
api=http://127.0.0.1:$port
for tool in hey wrk; do
  command -v $tool >/dev/null || { echo "install $tool: apt-get install hey wrk"; exit 1; }
done
if [ -n "${GMUD_BIN:-}" ]; then
  bin=$GMUD_BIN
else
  cargo build --release --locked -p gmud-api >/dev/null
  bin=${CARGO_TARGET_DIR:-target}/release/gmud
fi
limit=1000000
[ "${LIMITS:-raised}" = shipped ] && limit=30

psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null
DATABASE_URL=$pg/$db GMUD_BIND=127.0.0.1:$port GMUD_JWT_SECRET=bench-secret-bench-secret-bench-secret \
  GMUD_TOKEN_TTL_MINUTES=60 RUST_LOG=warn GMUD_MAIL_DIR=$(mktemp -d) \
  GMUD_LOGINS_PER_ADDRESS_PER_MINUTE=$limit \
  "$bin" serve --demo >/tmp/gmud-bench-logins.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf $api/ready >/dev/null && break; sleep 0.5; done
token=$(curl -s $api/api/v1/auth/token -H 'content-type: application/json' \
  -d '{"username":"tester","password":"gmud-demo"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
mem() { awk -v k="$1:" '$1 == k {printf "%.0f MB", $2/1024}' /proc/$server/status; }
reader() { hey -z "$1" -c 4 -q 50 -H "Authorization: Bearer $token" "$api/api/v1/rdms?limit=20" \
  | awk '/10%|50%|99%/ && /in/ {printf "%s %s ms  ", $1, $3*1000} END {print ""}'; }

echo "server after start: VmRSS $(mem VmRSS), VmHWM $(mem VmHWM)"
echo "reader alone (GET /rdms, 4 conns, 200 req/s): $(reader 5s)"
# 1. One account that does not exist, hammered: the per-account backoff answers 429.
reader "${secs}s" > /tmp/gmud-bench-reader.txt &
rd=$!
hey -z "${secs}s" -c "$conc" -m POST -T application/json \
  -d '{"username":"nobody-here","password":"wrong-password"}' "$api/api/v1/auth/token" > /tmp/gmud-bench-flood.txt
wait $rd
echo "flood 1: one unknown account, $conc concurrent, ${secs}s, address limit $limit/min:"
awk '/Requests\/sec/ {print "  " $0} /^  \[[0-9]+\]/ {print "  status " $0}' /tmp/gmud-bench-flood.txt
echo "  reader meanwhile: $(cat /tmp/gmud-bench-reader.txt)"
echo "  server peak so far: VmHWM $(mem VmHWM); now: VmRSS $(mem VmRSS)"
# 2. A new unknown account on every request: every one reaches argon2 (unless the address
#    limit answers first); only the bound on concurrent checks protects memory.
reader "${secs}s" > /tmp/gmud-bench-reader.txt &
rd=$!
echo "flood 2: a new unknown account per request, $conc concurrent, ${secs}s, address limit $limit/min:"
wrk -t2 -c"$conc" -d"${secs}s" --timeout 10s -s bench/logins.lua "$api" | grep -E "requests|Requests/sec|Non-2xx"
wait $rd
echo "  reader meanwhile: $(cat /tmp/gmud-bench-reader.txt)"
echo "  server peak: VmHWM $(mem VmHWM); now: VmRSS $(mem VmRSS)"
sleep 2
echo "  server 2 s after: VmRSS $(mem VmRSS)"
