#!/usr/bin/env bash
# Tickets at scale: 10,000,000 tickets (1,000,000 resolved, 100,000 of them due to close) on a
# database of its own, then
#   1. auto-close: the release server's timer worker closing the due ones (a `ticket_auto_close`
#      job due now, the way the product queues it) until none is left, and the same batches
#      (`tickets::timers::CLOSE_DUE`, read from the source) run straight from psql;
#   2. a timer pass when nothing is due: EXPLAIN of CLOSE_DUE and of the timer claim, and
#      pgbench running CLOSE_DUE alone (mean latency);
#   3. the ticket lists (bench/tickets/lists.sql) through bench/scale.sh: each filter under a
#      custom and a generic plan, median time and buffers;
#   4. create and read under load: wrk on POST /api/v1/tickets and GET /api/v1/tickets/{id},
#      alternating ROUNDS times with pgbench running the least SQL that does the same work
#      (bench/tickets/least-*.sql), like bench/load.sh;
#   5. the API's statements per create and per read, from PostgreSQL's log (a few hundred
#      requests one at a time, log_min_duration_statement = 0 on this database only).
# Not part of the tests. Needs wrk (apt-get install wrk) and pgbench; reads the server log
# /var/log/postgresql/postgresql-15-main.log (LOG_FILE) for step 5.
#
# Usage: bench/tickets.sh [tickets]            (default 10000000; chunks of 100,000)
#   GMUD_BIN=/path/to/gmud   the release build to run (default: builds it)
#   TICKETS_DB=gmud_tickets_bench   the database (dropped and re-created unless REUSE=1)
#   REUSE=1                  keep an already generated database (the due tickets are re-opened)
#   KEEP=1                   keep the database at the end (default: dropped: ~10 GB at 10 million)
#   NOW=2026-11-30T15:00:00Z the benchmark's "now" (the server's GMUD_CLOCK_START)
#   SECS=10 CONNS=32 ROUNDS=3 (load), RUNS=5 (list runs per plan), STEPS="gen close idle lists load stmts"
#   OUT=/tmp/gmud-tickets    where plans, logs and figures go
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-10000000}
db=${TICKETS_DB:-gmud_tickets_bench}
now=${NOW:-2026-11-30T15:00:00Z}
secs=${SECS:-10}
conns=${CONNS:-32}
rounds=${ROUNDS:-3}
steps=${STEPS:-gen close idle lists load stmts}
out=${OUT:-/tmp/gmud-tickets}
port=${BENCH_PORT:-18081}
log_file=${LOG_FILE:-/var/log/postgresql/postgresql-15-main.log}
pg=postgres://postgres@127.0.0.1:5432
api=http://127.0.0.1:$port
reason='closed automatically 60 business hours after the resolution'
mkdir -p "$out"
for tool in wrk pgbench; do
  command -v $tool >/dev/null || { echo "install $tool: apt-get install wrk (pgbench comes with PostgreSQL)"; exit 1; }
done
if [ -n "${GMUD_BIN:-}" ]; then
  bin=$GMUD_BIN
else
  cargo build --release --locked -p gmud-api >/dev/null
  bin=${CARGO_TARGET_DIR:-target}/release/gmud
fi
q() { psql "$pg/$db" -X -v ON_ERROR_STOP=1 -Atq "$@"; }
has() { case " $steps " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }
fig() { echo "$1 $2" | tee -a "$out/figures.txt"; }
echo "== $(date -u +%FT%TZ) $total tickets, steps: $steps" >>"$out/figures.txt"

# The statement the timer runs, from the source, with its parameters $1 (now), $2 (batch), $3 (reason).
close_due=$(awk '/pub const CLOSE_DUE: &str = "/ {on = 1; sub(/.*= "/, "")} on {if (/";$/) {sub(/";$/, ""); print; exit} print}' api/src/tickets/timers.rs)
claim_timer=$(awk '/pub const CLAIM_TIMER: &str = "/ {on = 1; sub(/.*= "/, "")} on {if (/";$/) {sub(/";$/, ""); print; exit} print}' api/src/queue/mod.rs)
[ -n "$close_due" ] && [ -n "$claim_timer" ] || { echo "CLOSE_DUE or CLAIM_TIMER not found in the source"; exit 1; }

server=
stop_server() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; fi; }
trap stop_server EXIT
start_server() {
  DATABASE_URL=$pg/$db GMUD_BIND=127.0.0.1:$port GMUD_CLOCK_START=$now GMUD_TOKEN_TTL_MINUTES=120 \
    GMUD_LOGINS_PER_ADDRESS_PER_MINUTE=100000 GMUD_DB_POOL_SIZE=32 GMUD_JOB_POLL_MS=${1:-1000} GMUD_JOB_WORKERS=${JOB_WORKERS:-2} \
    GMUD_MAIL_DIR=$(mktemp -d) RUST_LOG=warn "$bin" serve --demo >>"$out/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 240); do curl -sf $api/ready >/dev/null && return 0; sleep 0.5; done
  echo "the server did not start: $out/server.log"; exit 1
}
token() {
  curl -s $api/api/v1/auth/token -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"gmud-demo\"}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/'
}
due_left() { q -c "SELECT count(*) FROM tickets WHERE state = 'resolved' AND auto_close_at <= '$now'"; }
# Re-opens what an auto-close run closed (closed_at is the closing clock, at or after now).
reset_due() {
  q -c "UPDATE tickets SET state = 'resolved', closed_at = NULL, close_reason = NULL, version = version - 1,
          updated_at = resolved_at WHERE state = 'closed' AND closed_at >= '$now'"
  q -c "VACUUM ANALYZE tickets"
}

# ---------------------------------------------------------------------------------- data
if has gen && { [ "${REUSE:-0}" != 1 ] || [ -z "$(psql "$pg/postgres" -Atc "select 1 from pg_database where datname = '$db'")" ]; }; then
  echo "== generating $total tickets in $db (now = $now)"
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  DATABASE_URL=$pg/$db RUST_LOG=warn "$bin" seed --demo >/dev/null
  t0=$(date +%s.%N)
  q -f bench/tickets/setup.sql >/dev/null
  chunks=$(( (total + 99999) / 100000 ))
  seq 0 $((chunks - 1)) | xargs -P2 -I{} sh -c "lo=\$(({} * 100000 + 1)); hi=\$(( {} * 100000 + 100000 < $total ? {} * 100000 + 100000 : $total ));
    psql '$pg/$db' -X -q -v ON_ERROR_STOP=1 -v lo=\$lo -v hi=\$hi -v total=$total -v now=$now -f bench/tickets/chunk.sql"
  t1=$(date +%s.%N)
  fig gen_rows_s "$(secs_since "$t0")"
  # The ten indexes, two at a time, the GIN one first.
  q -c "SELECT indexdef FROM bench_ticket_indexes ORDER BY indexdef LIKE '%gin%' DESC, indexname" |
    tr '\n' '\0' | xargs -0 -P2 -I{} psql "$pg/$db" -X -q -v ON_ERROR_STOP=1 \
      -c "SET maintenance_work_mem = '2GB'" -c "SET max_parallel_maintenance_workers = 0" -c "{}"
  fig gen_indexes_s "$(secs_since "$t1")"
  t2=$(date +%s.%N)
  q -c "SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))" >/dev/null
  # The product queues an auto-close job per resolved ticket, due at its auto_close_at: the
  # ones not due yet stay in the queue (the due ones get a single job in step 1).
  q -c "INSERT INTO jobs (kind, lane, payload, dedup_key, run_at, max_attempts, created_at)
        SELECT 'ticket_auto_close', 'timers', jsonb_build_object('ticket_id', id, 'resolution_no', resolution_no),
          'ticket:' || id || ':resolution:' || resolution_no || ':auto_close', auto_close_at, 5, resolved_at
        FROM tickets WHERE state = 'resolved' AND auto_close_at > '$now' ORDER BY auto_close_at"
  q -c "VACUUM ANALYZE"
  fig gen_jobs_vacuum_s "$(secs_since "$t2")"
  fig gen_total_s "$(secs_since "$t0")"
  q -c "SELECT state, count(*), count(*) FILTER (WHERE auto_close_at <= '$now' AND state = 'resolved') AS due
        FROM tickets GROUP BY 1 ORDER BY 1" | tee "$out/states.txt"
  q -c "SELECT 'tickets ' || pg_size_pretty(pg_table_size('tickets')) || ' + indexes ' || pg_size_pretty(pg_indexes_size('tickets'))" | tee -a "$out/states.txt"
fi

# ---------------------------------------------------------------------------------- auto-close
if has close; then
  [ "$(due_left)" != 0 ] || reset_due
  echo "== auto-close: $(due_left) due tickets, the server's worker"
  start_server 100
  job=$(q -c "INSERT INTO jobs (kind, lane, payload, dedup_key, run_at, max_attempts, created_at)
    SELECT 'ticket_auto_close', 'timers', jsonb_build_object('ticket_id', id, 'resolution_no', resolution_no),
      NULL, '$now', 5, '$now'
    FROM tickets WHERE state = 'resolved' AND auto_close_at <= '$now' ORDER BY auto_close_at, id LIMIT 1 RETURNING id")
  t0=$(date +%s.%N)
  while [ "$(due_left)" != 0 ]; do
    sleep 0.2
    err=$(q -c "SELECT last_error FROM jobs WHERE id = $job")
    [ -z "$err" ] || { echo "the job failed (attempt rolled back): $err"; break; }
    if awk -v s="$(secs_since "$t0")" 'BEGIN {exit !(s > 600)}'; then echo "gave up after 600 s"; break; fi
  done
  fig close_worker_s "$(secs_since "$t0")"
  q -c "SELECT 'job ' || id || ': ' || status || ', attempts ' || attempts || coalesce(', ' || last_error, '') FROM jobs WHERE id = $job"
  fig close_worker_closed "$(q -c "SELECT count(*) FROM tickets WHERE state = 'closed' AND closed_at >= '$now'")"
  stop_server

  echo "== auto-close: the same batches from psql (one transaction, batches of 5,000)"
  reset_due
  n_due=$(due_left)
  t0=$(date +%s.%N)
  q <<SQL
DO \$do\$ DECLARE n bigint; BEGIN
  LOOP
    EXECUTE \$q\$$close_due\$q\$ INTO n USING '$now'::timestamptz, 5000::bigint, '$reason'::text;
    EXIT WHEN n < 5000;
  END LOOP;
END \$do\$;
SQL
  fig close_psql_s "$(secs_since "$t0")"
  fig close_psql_due "$n_due"
  q -c "VACUUM ANALYZE tickets"
fi

# ---------------------------------------------------------------------------------- idle pass
if has idle; then
  echo "== a timer pass when nothing is due ($(due_left) due)"
  plans=$out/idle-plans.txt
  q >"$plans" <<SQL
PREPARE close_due (timestamptz, bigint, text) AS $close_due;
PREPARE claim_timer (timestamptz) AS $claim_timer;
BEGIN;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE close_due ('$now', 5000, '$reason');
EXPLAIN (ANALYZE, BUFFERS) EXECUTE claim_timer ('$now');
SET LOCAL plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE close_due ('$now', 5000, '$reason');
EXPLAIN (ANALYZE, BUFFERS) EXECUTE claim_timer ('$now');
ROLLBACK;
SQL
  grep -E '^(Planning|Execution) Time' "$plans" | paste -sd ' ' | tee -a "$out/figures.txt"
  # pgbench: the statement alone, one client, as the worker runs it (prepared).
  echo "$close_due;" | sed "s/\$1/:now::timestamptz/g; s/\$2/5000/g; s/\$3/'$reason'/g" >"$out/close-due.sql"
  echo "$claim_timer;" | sed "s/\$1/:now::timestamptz/g" >"$out/claim-timer.sql"
  for f in close-due claim-timer; do
    r=$(pgbench -n -M prepared -c1 -T"$secs" -D now="$now" -f "$out/$f.sql" "$pg/$db" 2>/dev/null)
    fig "idle_${f}_ms" "$(echo "$r" | awk '/latency average/ {print $4}')"
    fig "idle_${f}_tps" "$(echo "$r" | awk '/^tps/ {printf "%.0f", $3}')"
  done
fi

# ---------------------------------------------------------------------------------- lists
if has lists; then
  echo "== lists (bench/tickets/lists.sql through bench/scale.sh)"
  REUSE=1 SCALE_DB=$db GMUD_BIN=$bin RUNS=${RUNS:-5} LIMIT_MS=${LIMIT_MS:-5} PLANS=$out/list-plans.txt \
    bench/scale.sh bench/tickets/lists.sql | tee "$out/lists.txt" || true
fi

# ---------------------------------------------------------------------------------- load
if has load; then
  echo "== create and read under load: $rounds rounds of ${secs}s, $conns connections"
  start_server
  org=$(q -c "SELECT organization_id FROM users WHERE username = 'customer.acme'")
  requester=$(q -c "SELECT id FROM users WHERE username = 'customer.acme'")
  item=$(q -c "SELECT id FROM support_items WHERE code = 'esocial'")
  queue=$(q -c "SELECT r.queue_id FROM routing_rules r WHERE r.item_id = $item ORDER BY position LIMIT 1")
  calendar=$(q -c "SELECT coalesce(c.calendar_id, o.calendar_id) FROM organizations o
    LEFT JOIN contracts c ON c.organization_id = o.id AND c.product = (SELECT product FROM support_items WHERE id = $item)
    WHERE o.id = $org LIMIT 1")
  customer=$(token customer.acme)
  analyst=$(token rh1)
  export ITEM=$item
  # The API answers 201 to a create and 200 to a read; anything else is counted.
  curl -sf -o /dev/null -H "Authorization: Bearer $customer" -H 'content-type: application/json' \
    -d "{\"item_id\":$item,\"title\":\"Teste de carga\",\"description\":\"x\",\"priority\":\"low\"}" $api/api/v1/tickets ||
    { echo "a create fails: $(curl -s -H "Authorization: Bearer $customer" -H 'content-type: application/json' \
      -d "{\"item_id\":$item,\"title\":\"Teste de carga\",\"description\":\"x\",\"priority\":\"low\"}" $api/api/v1/tickets)"; exit 1; }
  : >"$out/load.txt"
  wrk_rps() { awk '/Requests\/sec/ {printf "%.0f", $2}'; }
  wrk_p() { awk -v p="$1" '$1 == p {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) sub(/ms/, "", v); else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; printf "%.1f", v}'; }
  wrk_errors() { awk '/Non-2xx|Socket errors/ {print}' | paste -sd ' '; }
  pgb() { pgbench -n -M prepared -c"$conns" -j2 -T"$secs" "$@" "$pg/$db" 2>/dev/null | awk '/^tps/ {printf "%.0f", $3}'; }
  for round in $(seq 1 "$rounds"); do
    w=$(TOKEN=$customer wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/tickets/create.lua $api)
    echo "$w" >>"$out/wrk.txt"
    echo "api_create $(echo "$w" | wrk_rps)" >>"$out/load.txt"
    echo "api_create_p50_ms $(echo "$w" | wrk_p '50%')" >>"$out/load.txt"
    echo "api_create_p99_ms $(echo "$w" | wrk_p '99%')" >>"$out/load.txt"
    [ -z "$(echo "$w" | wrk_errors)" ] || echo "round $round create: $(echo "$w" | wrk_errors)" >&2
    echo "pgbench_least_create $(pgb -D org="$org" -D requester="$requester" -D item="$item" -D queue="$queue" \
      -D calendar="$calendar" -f bench/tickets/least-create.sql)" >>"$out/load.txt"
    echo "pgbench_least_create_timers $(pgb -D org="$org" -D requester="$requester" -D item="$item" -D queue="$queue" \
      -D calendar="$calendar" -f bench/tickets/least-create-timers.sql)" >>"$out/load.txt"
    max_id=$(q -c 'SELECT max(id) FROM tickets')
    w=$(TOKEN=$analyst MAX_ID=$max_id wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/tickets/read.lua $api)
    echo "$w" >>"$out/wrk.txt"
    echo "api_read $(echo "$w" | wrk_rps)" >>"$out/load.txt"
    echo "api_read_p50_ms $(echo "$w" | wrk_p '50%')" >>"$out/load.txt"
    echo "api_read_p99_ms $(echo "$w" | wrk_p '99%')" >>"$out/load.txt"
    [ -z "$(echo "$w" | wrk_errors)" ] || echo "round $round read: $(echo "$w" | wrk_errors)" >&2
    echo "pgbench_least_read $(pgb -D max_id="$max_id" -f bench/tickets/least-read.sql)" >>"$out/load.txt"
    echo "pgbench_least_read_lists $(pgb -D max_id="$max_id" -f bench/tickets/least-read-lists.sql)" >>"$out/load.txt"
    echo "round $round: $(grep -c . "$out/load.txt") figures" >&2
  done
  median() { grep "^$1 " "$out/load.txt" | awk '{print $2}' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
  for name in api_create pgbench_least_create pgbench_least_create_timers api_create_p50_ms api_create_p99_ms \
      api_read pgbench_least_read pgbench_least_read_lists api_read_p50_ms api_read_p99_ms; do
    fig "$name" "$(median $name)   (runs: $(grep "^$name " "$out/load.txt" | awk '{print $2}' | paste -sd ' '))"
  done
  awk -v c="$(median api_create)" -v lc="$(median pgbench_least_create)" -v r="$(median api_read)" -v lr="$(median pgbench_least_read)" \
    'BEGIN {if (lc > 0 && lr > 0) printf "create: API / least SQL = %.2f; read: API / least SQL = %.2f\n", c / lc, r / lr}' | tee -a "$out/figures.txt"
  awk -v c="$(median api_create)" -v lc="$(median pgbench_least_create_timers)" -v r="$(median api_read)" -v lr="$(median pgbench_least_read_lists)" \
    'BEGIN {if (lc > 0 && lr > 0) printf "create: API / least SQL with the timers = %.2f; read: API / least SQL with the lists = %.2f\n", c / lc, r / lr}' | tee -a "$out/figures.txt"
  stop_server
fi

# ---------------------------------------------------------------------------------- statements
if has stmts; then
  n=${STMT_REQUESTS:-200}
  echo "== statements per request ($n creates, $n reads, one at a time, logged, after as many to warm up)"
  psql "$pg/postgres" -qc "ALTER DATABASE $db SET log_min_duration_statement = 0"
  # No job workers: their polling would be counted.
  JOB_WORKERS=0 start_server
  customer=$(token customer.acme)
  analyst=$(token rh1)
  item=$(q -c "SELECT id FROM support_items WHERE code = 'esocial'")
  max_id=$(q -c 'SELECT max(id) FROM tickets')
  creates() {
    for i in $(seq 1 "$n"); do
      curl -s -o /dev/null -H "Authorization: Bearer $customer" -H 'content-type: application/json' \
        -d "{\"item_id\":$item,\"title\":\"Contagem de instruções\",\"description\":\"x\",\"priority\":\"high\"}" $api/api/v1/tickets
    done
  }
  reads() {
    for i in $(seq 1 "$n"); do
      curl -s -o /dev/null -H "Authorization: Bearer $analyst" $api/api/v1/tickets/$(( (i * 48271 + $1) % max_id + 1 ))
    done
  }
  # Every pooled connection has prepared its statements and looked up the custom types.
  creates; reads 7
  from=$(wc -c <"$log_file")
  creates
  sleep 1; tail -c +"$((from + 1))" "$log_file" >"$out/log-create.txt"
  from=$(wc -c <"$log_file")
  reads 0
  sleep 1; tail -c +"$((from + 1))" "$log_file" >"$out/log-read.txt"
  psql "$pg/postgres" -qc "ALTER DATABASE $db RESET log_min_duration_statement"
  stop_server
  # Each logged execution: "duration: X ms  execute <name>: <sql>" or "duration: X ms  statement: <sql>".
  summarize() {
    grep -a "@$db " "$1" | grep -aE 'duration: [0-9.]+ ms  (execute [^:]*|statement): ' |
      sed -E 's/.*duration: ([0-9.]+) ms  (execute [^:]*|statement): (.*)/\1\t\3/' |
      awk -F'\t' -v n="$n" '{k = substr($2, 1, 110); c[k]++; t[k] += $1; all++; tt += $1}
        END {printf "%.1f statements per request, %.3f ms in PostgreSQL per request\n", all / n, tt / n;
             for (k in c) printf "%6.2f /req %8.3f ms avg %8.3f ms/req  %s\n", c[k] / n, t[k] / c[k], t[k] / n, k}' |
      { IFS= read -r head; echo "$head"; sort -k6 -gr; }
  }
  echo "-- create" | tee "$out/statements.txt"
  summarize "$out/log-create.txt" | tee -a "$out/statements.txt"
  echo "-- read" | tee -a "$out/statements.txt"
  summarize "$out/log-read.txt" | tee -a "$out/statements.txt"
fi

if [ "${KEEP:-0}" != 1 ]; then
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
fi
echo "figures: $out/figures.txt; plans: $out/idle-plans.txt, $out/list-plans.txt" >&2
