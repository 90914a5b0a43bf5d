//! What `gmud serve` and `gmud migrate` do before serving: create the database, migrate it,
//! and say in one line what to do when PostgreSQL cannot be reached.
use gmud_api::platform::pool as db;

fn url(db: &str) -> String {
    let base = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut u = url::Url::parse(&base).unwrap();
    u.set_path(&format!("/{db}"));
    u.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_database_is_created_and_migrated_once() {
    let name = format!("gmud_setup_{}", std::process::id());
    let admin = url("postgres");
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();

    db::ensure_database(&url(&name)).await.unwrap();
    db::ensure_database(&url(&name))
        .await
        .expect("a second call finds it");
    let first = db::run_migrations(&url(&name)).await.unwrap();
    assert!(first >= 1);
    assert_eq!(
        db::run_migrations(&url(&name)).await.unwrap(),
        0,
        "nothing pending the second time"
    );
    let (c2, conn2) = tokio_postgres::connect(&url(&name), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn2);
    let n: i64 = c2
        .query_one("SELECT count(*) FROM rdms", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    drop(c2);
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_gets_one_clear_line() {
    // Nothing listens on port 1.
    let e = db::ensure_database("postgres://gmud:s3cret@127.0.0.1:1/gmud")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("cannot reach PostgreSQL at postgres://gmud:****@127.0.0.1:1/gmud"),
        "{e}"
    );
    assert!(e.contains("set DATABASE_URL"), "{e}");
    assert!(!e.contains("s3cret"), "the password never shows: {e}");
    assert!(!e.contains('\n'), "one line: {e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_started_together_wait_for_each_other_on_a_new_or_unmigrated_database() {
    let admin = url("postgres");
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    for unmigrated in [false, true] {
        let name = format!("gmud_race_{}_{unmigrated}", std::process::id());
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .unwrap();
        if unmigrated {
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
        }
        let target = url(&name);
        // Four at once, as four replicas of a deployment starting together, seeding the demo.
        let runs = futures_util::future::join_all(
            (0..4).map(|_| gmud_api::fixtures::prepare(&target, 2, Some(true))),
        )
        .await;
        for r in &runs {
            assert!(r.is_ok(), "unmigrated={unmigrated}: {:?}", r.as_ref().err());
        }
        drop(runs);
        let (c, conn) = tokio_postgres::connect(&target, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let users: i64 = c
            .query_one("SELECT count(*) FROM users WHERE username = 'gm'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(users, 1, "seeded once");
        drop(c);
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .unwrap();
    }
}
