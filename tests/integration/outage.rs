//! While PostgreSQL is unreachable the job workers say so once, back off, and say once when
//! they are back (issue 8, item 9): through a TCP relay in front of the real PostgreSQL that
//! can refuse (accept and hang up) or forward.
use gmud_tests::TestApp;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// Log lines, kept.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
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

/// Waits (without a fixed sleep) until `cond` holds, or fails after `limit`.
async fn until(limit: Duration, what: &str, cond: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
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
    {
        let (up, attempts) = (up.clone(), attempts.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = relay.accept().await else {
                    return;
                };
                attempts.fetch_add(1, Ordering::SeqCst);
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
    let lines = Lines::default();
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
    until(Duration::from_secs(20), "failed polls", || {
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
    until(Duration::from_secs(60), "recovery", || {
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
