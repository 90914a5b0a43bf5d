//! The statements that must not read whole tables at scale (bench/scale.sh measures them on
//! 100,000 RDMs and 2,000,000 jobs) keep their plans under a generic plan, the one a pooler in
//! transaction mode (or PostgreSQL itself, after five runs) uses: the claims and the admin's
//! job listings read an index, never `jobs` whole; a search walks only the newest RDMs in id
//! order, and looks up older ones through the full-text index. The statements are the
//! benchmark's (`bench/scale/queries.sql`), the claims checked to be the workers' own.
use gmud_tests::TestApp;

struct Statement {
    name: String,
    /// A case left open (`-- known:`): measured by the benchmark, not held here.
    known: bool,
    types: String,
    args: String,
    sql: String,
}

fn statements() -> Vec<Statement> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/scale/queries.sql");
    let text = std::fs::read_to_string(path).expect("bench/scale/queries.sql");
    text.split("-- name: ")
        .skip(1)
        .map(|block| {
            let mut lines = block.lines();
            // The name, then the fields and the statement.
            let name = lines.next().unwrap().to_string();
            let field = |key: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(key))
                    .unwrap_or_else(|| panic!("{name}: no {key}"))
                    .to_string()
            };
            let sql = lines
                .filter(|l| !l.starts_with("--"))
                .take_while(|l| *l != ";")
                .collect::<Vec<_>>()
                .join("\n");
            Statement {
                known: block.contains("\n-- known: "),
                types: field("-- types: "),
                args: field("-- args: "),
                name,
                sql,
            }
        })
        .collect()
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn scale_queries_keep_their_plans_under_generic_plans() {
    let app = TestApp::spawn().await;
    let (db, conn) = tokio_postgres::connect(&app.db_url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    // Enough rows that reading a whole table costs more than an index: 20,000 done jobs, a
    // few pending and dead ones, 5,000 RDMs.
    db.batch_execute(
        "INSERT INTO jobs (kind, lane, payload, status, run_at, attempts, max_attempts, created_at, finished_at)
           SELECT CASE WHEN g % 20 = 0 THEN 'holiday_notice' ELSE 'mail' END,
                  CASE WHEN g % 20 = 0 THEN 'timers' ELSE 'deliveries' END::job_lane,
                  '{}', 'done', now() - interval '1 day', 1, 8, now(), now()
           FROM generate_series(1, 20000) g;
         INSERT INTO jobs (kind, lane, payload, status, run_at, attempts, max_attempts, created_at)
           SELECT 'mail', 'deliveries', '{}', CASE WHEN g % 2 = 0 THEN 'pending' ELSE 'dead' END::job_status,
                  now() + interval '1 hour', 0, 8, now()
           FROM generate_series(1, 100) g;
         INSERT INTO rdms (rdm_type, state, title, requester_id, created_at, updated_at)
           SELECT 'normal', 'draft', 'Troca do servidor ' || g, (SELECT min(id) FROM users), now(), now()
           FROM generate_series(1, 5000) g;
         ANALYZE jobs; ANALYZE rdms;
         SET plan_cache_mode = force_generic_plan;",
    )
    .await
    .expect("rows");

    let all = statements();
    for claim in [
        gmud_api::queue::CLAIM_TIMER,
        gmud_api::queue::CLAIM_DELIVERY,
        gmud_api::queue::admin::DUE_BY_KIND,
    ] {
        assert!(
            all.iter().any(|s| squash(&s.sql) == squash(claim)),
            "bench/scale/queries.sql does not hold the workers' claim:\n{claim}"
        );
    }
    for (i, s) in all.iter().enumerate() {
        let literals: String = db
            .query_one(
                &format!(
                    "SELECT coalesce(string_agg(quote_nullable(value), ', ' ORDER BY n), '')
                     FROM (SELECT {}) t, json_each_text(row_to_json(t)) WITH ORDINALITY AS e(key, value, n)",
                    s.args
                ),
                &[],
            )
            .await
            .expect("args")
            .get(0);
        db.batch_execute(&format!("PREPARE q{i} ({}) AS {}", s.types, s.sql))
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", s.name));
        let plan: Vec<String> = db
            .query(
                &format!("EXPLAIN (COSTS OFF) EXECUTE q{i} ({literals})"),
                &[],
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", s.name))
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect();
        let plan = plan.join("\n");
        assert!(
            !plan.contains("Seq Scan on jobs") && !plan.contains("Seq Scan on rdms"),
            "{} reads a whole table under a generic plan:\n{plan}",
            s.name
        );
        if s.known {
            continue;
        }
        if s.name.starts_with("worker claim") {
            assert!(
                plan.contains("Index Scan using jobs_due_") && !plan.contains("Sort"),
                "{} does not read its lane's due jobs in order:\n{plan}",
                s.name
            );
        }
        if s.name.starts_with("metrics: due jobs") {
            // Each lane's due jobs through its partial index: never the done ones.
            assert!(
                plan.contains("jobs_due_timers_idx") && plan.contains("jobs_due_deliveries_idx"),
                "{} does not read only the due jobs:\n{plan}",
                s.name
            );
        }
        if s.name.starts_with("jobs") {
            // Not a walk of every id, testing the status and kind of each.
            assert!(
                !plan.contains("Sort") && !plan.contains("using jobs_pkey"),
                "{} sorts instead of reading an index in order:\n{plan}",
                s.name
            );
        }
        if s.name.ends_with(": newest") {
            // An ordered walk bounded below by the newest ids, the text tested on each row.
            assert!(
                plan.contains("Index Scan Backward using rdms_pkey on rdms\n")
                    && plan.contains("Index Cond: (id >= COALESCE("),
                "{} does not walk only the newest RDMs:\n{plan}",
                s.name
            );
        }
        if s.name.ends_with(": older") {
            assert!(
                plan.contains("Bitmap Index Scan on rdms_search_idx")
                    && !plan.contains("Index Scan Backward"),
                "{} does not look older matches up through the full-text index:\n{plan}",
                s.name
            );
        }
    }
}
