//! While PostgreSQL is unreachable the job workers say so once, back off, and say once when
//! they are back (issue 8, item 9): through a TCP relay in front of the real PostgreSQL that
//! can refuse (accept and hang up) or forward.
use gmud_tests::TestApp;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Log lines, kept; each write wakes whoever waits on `changed`.
#[derive(Clone)]
struct Lines(Arc<Mutex<Vec<u8>>>, Arc<Notify>);

impl std::io::Write for Lines {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        self.1.notify_one();
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    fn count(&self, needle: &str) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|l| l.contains(needle))
            .count()
    }
}

/// Waits until `cond` holds, woken by each log line or connection (no sleeping: the test
/// moves when the workers do); fails if nothing happens for `limit`.
async fn until(changed: &Notify, limit: Duration, what: &str, cond: impl Fn() -> bool) {
    while !cond() {
        tokio::time::timeout(limit, changed.notified())
            .await
            .unwrap_or_else(|_| panic!("nothing happened for {limit:?} while waiting for {what}"));
    }
}

// current_thread: the workers run on this thread, where the log capture is installed.
#[tokio::test]
async fn job_workers_log_one_error_per_outage_and_one_recovery() {
    let app = TestApp::spawn().await;
    let relay = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = relay.local_addr().unwrap().port();
    let up = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(AtomicUsize::new(0));
    let changed = Arc::new(Notify::new());
    {
        let (up, attempts, changed) = (up.clone(), attempts.clone(), changed.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = relay.accept().await else {
                    return;
                };
                attempts.fetch_add(1, Ordering::SeqCst);
                changed.notify_one();
                if !up.load(Ordering::SeqCst) {
                    drop(inbound); // down: PostgreSQL hangs up at once
                    continue;
                }
                tokio::spawn(async move {
                    if let Ok(mut pg) = TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut pg).await;
                    }
                });
            }
        });
    }
    let lines = Lines(Arc::default(), changed.clone());
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut url = url::Url::parse(&app.db_url).unwrap();
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(port)).unwrap();
    let mut worker = app.state.worker();
    worker.pool = gmud_api::platform::pool::build_pool(url.as_str(), 2).unwrap();
    // One worker per lane (timers, deliveries), polling every 10 ms when all is well.
    let handles = worker.spawn(1, Duration::from_millis(10));

    // Down: many failed polls, one line per worker.
    until(&changed, Duration::from_secs(40), "failed polls", || {
        attempts.load(Ordering::SeqCst) >= 10
    })
    .await;
    assert_eq!(
        lines.count("job worker cannot run jobs"),
        2,
        "one per worker, not per poll"
    );
    assert_eq!(lines.count("job worker recovered"), 0);
    let polls = attempts.load(Ordering::SeqCst);

    // Back: each worker says so once, and polls at its normal pace again.
    up.store(true, Ordering::SeqCst);
    until(&changed, Duration::from_secs(40), "recovery", || {
        lines.count("job worker recovered") == 2
    })
    .await;
    let after = attempts.load(Ordering::SeqCst);
    assert!(after >= polls, "{after} {polls}");
    assert_eq!(lines.count("job worker cannot run jobs"), 2);
    for h in handles {
        h.abort();
    }
}
