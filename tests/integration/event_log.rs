//! The one event log: append-only in the database, and the upgrade that moved the RDM history
//! and the meetings' moves into it loses nothing.
use gmud_tests::TestApp;

async fn client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_log_refuses_update_delete_and_truncate() {
    let app = TestApp::spawn().await;
    let id = app.rdm_awaiting_committee("Append-only", 1).await;
    let db = client(&app.db_url).await;
    let before: i64 = db
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert!(before >= 6, "the RDM's history is in the log: {before}");
    for sql in [
        format!("UPDATE events SET reason = 'forged' WHERE entity = 'rdm' AND entity_id = {id}"),
        format!("DELETE FROM events WHERE entity = 'rdm' AND entity_id = {id}"),
        "TRUNCATE events".to_string(),
    ] {
        let e = db.batch_execute(&sql).await.expect_err(&sql);
        assert!(
            e.as_db_error().unwrap().message().contains("append-only"),
            "{sql}: {e}"
        );
    }
    let after: i64 = db
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(before, after);
}

fn url_for(db: &str) -> String {
    let base = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut u = url::Url::parse(&base).unwrap();
    u.set_path(&format!("/{db}"));
    u.to_string()
}

/// Runs the first `n` migrations only: the database as an older release left it.
async fn migrate_first(url: &str, n: usize) {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
        use diesel_async::AsyncPgConnection;
        use diesel_migrations::MigrationHarness;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
        for _ in 0..n {
            conn.run_next_migration(gmud_api::platform::pool::MIGRATIONS)
                .unwrap();
        }
    })
    .await
    .unwrap();
}

/// One row of history as a comparable text line.
type Line = (
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    String,
    String,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upgrade_moves_rdm_history_and_meeting_moves_into_the_log_with_nothing_lost() {
    let name = format!("gmud_upgrade_{}", std::process::id());
    let admin = client(&url_for("postgres")).await;
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin.batch_execute(&sql).await.unwrap();
    }
    let url = url_for(&name);
    // The schema as the release before this one left it, with history in it.
    migrate_first(&url, 2).await;
    let db = client(&url).await;
    db.batch_execute(
        "SET TIME ZONE 'America/Sao_Paulo';
         INSERT INTO users (id, username, display_name, email, password_hash, roles, created_at)
           VALUES (7, 'gm', 'Gestora', 'gm@x.test', 'x', ARRAY['change_manager','committee_member'], '2026-11-01T12:00:00Z');
         INSERT INTO calendars (id, code, name, timezone, working_days, business_hours)
           VALUES (1, 'BR', 'BR', 'America/Sao_Paulo', ARRAY['monday'], '[]');
         INSERT INTO calendar_policies (version, timezone, calendar_id, meeting_weekday, meeting_start,
             meeting_duration_minutes, cutoff_time, window_weekday, window_start, window_duration_minutes, created_at)
           VALUES (1, 'America/Sao_Paulo', 1, 'tuesday', '14:00', 120, '10:00', 'thursday', '00:00', 360, now());
         INSERT INTO committees (id, code, name, kind) VALUES (1, 'CM', 'Comitê', 'cm');
         INSERT INTO committee_meetings (id, committee_id, original_date, starts_at, ends_at, cutoff_at, on_holiday, policy_version, status)
           VALUES (3, 1, '2027-02-09', '2027-02-09T17:00:00Z', '2027-02-09T19:00:00Z', '2027-02-09T13:00:00Z', true, 1, 'scheduled');
         INSERT INTO meeting_reschedules (meeting_id, old_starts_at, new_starts_at, new_ends_at, reason, actor_id, at) VALUES
           (3, '2027-02-09T17:00:00Z', '2027-02-10T17:00:00Z', '2027-02-10T19:00:00Z', 'Carnaval', 7, '2026-11-20T15:00:00Z'),
           (3, '2027-02-10T17:00:00Z', '2027-02-11T17:30:00Z', '2027-02-11T19:30:00Z', 'Quarta de cinzas: meio período', 7, '2026-11-21T15:00:00Z');
         INSERT INTO rdms (id, rdm_type, state, title, requester_id, created_at, updated_at, impact, risk, priority)
           VALUES (5, 'normal', 'assessment', 'Leiaute S-1.3', 7, '2026-11-02T12:00:00Z', now(), 'medium', 'high', 'high');
         INSERT INTO rdm_transitions (id, rdm_id, action, from_state, to_state, actor_id, reason, detail, at) VALUES
           (11, 5, 'create', NULL, 'draft', 7, NULL, '{}', '2026-11-02T12:00:00Z'),
           (12, 5, 'submit', 'draft', 'submitted', 7, NULL, '{}', '2026-11-02T12:05:00Z'),
           (15, 5, 'start_assessment', 'submitted', 'assessment', NULL, 'pelo sistema', '{\"note\": \"ação ''x''\", \"n\": [1, 2]}', '2026-11-03T09:00:00Z');",
    )
    .await
    .unwrap();
    let before: Vec<Line> = db
        .query(
            "SELECT id, rdm_id, action, from_state, to_state, actor_id, reason, detail::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
             FROM rdm_transitions ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), Some(r.get(4)), r.get(5), r.get(6), r.get(7), r.get(8)))
        .collect();
    let moves_before: Vec<(i64, String, i64, String, String, String, String)> = db
        .query(
            "SELECT meeting_id, reason, actor_id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
                    old_starts_at::text, new_starts_at::text, new_ends_at::text
             FROM meeting_reschedules ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)))
        .collect();
    assert_eq!((before.len(), moves_before.len()), (3, 2));

    // The upgrade.
    gmud_api::platform::pool::run_migrations(&url)
        .await
        .unwrap();

    let db = client(&url).await;
    db.batch_execute("SET TIME ZONE 'America/Sao_Paulo'")
        .await
        .unwrap();
    let after: Vec<Line> = db
        .query(
            "SELECT id, entity_id, action, from_state, to_state, actor_id, reason, detail::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
             FROM events WHERE entity = 'rdm' ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6), r.get(7), r.get(8)))
        .collect();
    assert_eq!(after, before, "the RDM history, ids and all");
    let moves_after: Vec<(i64, String, i64, String, String, String, String)> = db
        .query(
            "SELECT entity_id, reason, actor_id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
                    (detail->>'old_starts_at')::timestamptz::text, (detail->>'new_starts_at')::timestamptz::text,
                    (detail->>'new_ends_at')::timestamptz::text
             FROM events WHERE entity = 'meeting' AND action = 'reschedule' ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)))
        .collect();
    assert_eq!(moves_after, moves_before, "the meeting's moves");
    // Typed states kept their values; the old tables are gone; new events follow the old ids.
    let row = db
        .query_one(
            "SELECT state::text, impact::text, risk::text, priority::text FROM rdms WHERE id = 5",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            row.get::<_, String>(2),
            row.get::<_, String>(3)
        ),
        (
            "assessment".into(),
            "medium".into(),
            "high".into(),
            "high".into()
        )
    );
    let roles: Vec<String> = db
        .query_one("SELECT roles::text[] FROM users WHERE id = 7", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(roles, ["change_manager", "committee_member"]);
    for old in ["rdm_transitions", "meeting_reschedules"] {
        let n: i64 = db
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE tablename = $1",
                &[&old],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{old} is dropped");
    }
    let next: i64 = db
        .query_one(
            "INSERT INTO events (entity, entity_id, action, at) VALUES ('rdm', 5, 'edit', now()) RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(next > 15, "new events come after the migrated ones: {next}");
    // The history endpoint's reading of the log gives what the old table held.
    let pool = gmud_api::platform::pool::build_pool(&url, 1).unwrap();
    let mut conn = pool.get().await.unwrap();
    let h = gmud_api::changes::rdms::history::history(&mut conn, 5)
        .await
        .unwrap();
    let actions: Vec<&str> = h.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["create", "submit", "start_assessment", "edit"]);
    assert_eq!(h[2].reason.as_deref(), Some("pelo sistema"));
    assert_eq!(h[2].detail["note"], "ação 'x'");
    drop(conn);
    drop(pool);
    drop(db);
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}
