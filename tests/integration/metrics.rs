//! The service's own SLIs (issue 10, item 5): `GET /metrics` over HTTP, request ids on every
//! response and in every problem document.
//!
//! The request counters are the process' (every test server in this binary counts into
//! them, concurrently): a test reads a series before and after and asserts it grew, or picks
//! labels no other test uses. The queue's gauges are read from each test's own database.
use gmud_tests::{json, normal_rdm, Resp, TestApp};

async fn scrape(app: &TestApp) -> String {
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain"), "{ct}");
    r.text().await.unwrap()
}

/// The value of the one series named `name` with exactly these labels (0 when absent).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let want: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .find(|(series, _)| {
            let (n, rest) = series.split_once('{').unwrap_or((series, "}"));
            let got: Vec<&str> = rest
                .trim_end_matches('}')
                .split(',')
                .filter(|s| !s.is_empty())
                .collect();
            n == name && got.len() == want.len() && want.iter().all(|w| got.contains(&w.as_str()))
        })
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0.0)
}

fn requests(text: &str, method: &str, route: &str, class: &str) -> f64 {
    sample(
        text,
        "gmud_http_requests_total",
        &[
            ("method", method),
            ("route", route),
            ("status_class", class),
        ],
    )
}

fn request_id(r: &Resp) -> String {
    r.headers
        .get("x-request-id")
        .unwrap_or_else(|| panic!("no X-Request-Id: {r:?}"))
        .to_str()
        .unwrap()
        .to_string()
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            matches!(i, 8 | 13 | 18 | 23) == (c == '-') && (c == '-' || c.is_ascii_hexdigit())
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_expose_every_family_with_its_type_without_a_token() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("", "/health").await.status, 200);
    let text = scrape(&app).await;
    for (family, kind) in [
        ("gmud_http_request_duration_seconds", "histogram"),
        ("gmud_http_requests_total", "counter"),
        ("gmud_http_server_errors_total", "counter"),
        ("gmud_jobs_due", "gauge"),
        ("gmud_jobs_oldest_due_age_seconds", "gauge"),
        ("gmud_mail_send_failures_total", "counter"),
        ("gmud_sla_breaches_total", "counter"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} {kind}\n")),
            "no {kind} {family} in:\n{text}"
        );
    }
    // Every registered job kind has its series, at 0 when nothing is due.
    assert!(
        text.contains("gmud_jobs_due{kind=\"sla_breach\"}"),
        "{text}"
    );
    assert!(text.contains("gmud_sla_breaches_total{clock=\"resolution\"}"));
    // The histogram has the SLO thresholds as bucket edges.
    assert!(text.contains(
        "gmud_http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",status_class=\"2xx\",le=\"0.1\"}"
    ));
    assert!(text.contains("le=\"0.3\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_counted_by_route_pattern_and_status_class_never_by_raw_path() {
    let app = TestApp::spawn().await;
    let t = app.token("rh1").await;
    let route = "/api/v1/tickets/{id}";
    let before = scrape(&app).await;
    // A ticket that does not exist (4xx), under the pattern; an unknown path, as `unmatched`.
    let r = app.get(&t, "/api/v1/tickets/987654321").await;
    assert_eq!(r.status, 404, "{r:?}");
    let r = app.get("", "/api/v1/nowhere-5551234").await;
    assert_eq!(r.status, 404, "{r:?}");
    let text = scrape(&app).await;
    assert!(requests(&text, "GET", route, "4xx") >= requests(&before, "GET", route, "4xx") + 1.0);
    assert!(
        requests(&text, "GET", "unmatched", "4xx")
            >= requests(&before, "GET", "unmatched", "4xx") + 1.0
    );
    assert!(
        !text.contains("987654321") && !text.contains("nowhere-5551234"),
        "a raw path became a label:\n{text}"
    );
    let count = |t: &str| {
        sample(
            t,
            "gmud_http_request_duration_seconds_count",
            &[("method", "GET"), ("route", route), ("status_class", "4xx")],
        )
    };
    assert!(count(&text) >= count(&before) + 1.0);

    // A 5xx: a server whose database is down answers a login with 503.
    let down = app.server_without_database().await;
    let before = scrape(&app).await;
    let r = app
        .client
        .post(format!("{down}/api/v1/auth/token"))
        .json(&json!({"username": "rh1", "password": "gmud-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "service_unavailable");
    assert_eq!(body["request_id"], id.as_str());
    let text = scrape(&app).await;
    let login = "/api/v1/auth/token";
    assert!(requests(&text, "POST", login, "5xx") >= requests(&before, "POST", login, "5xx") + 1.0);
    let errors = |t: &str| sample(t, "gmud_http_server_errors_total", &[]);
    assert!(errors(&text) >= errors(&before) + 1.0);
    // The database's absence leaves the queue's gauges out, not the scrape.
    let r = app
        .client
        .get(format!("{down}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("# TYPE gmud_http_requests_total counter"));
    assert!(!text.contains("gmud_jobs_due"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_jobs_show_in_the_backlog_by_kind_with_the_oldest_ones_age() {
    let app = TestApp::spawn().await;
    let item = {
        let t = app.token("rh1").await;
        let r = app.get(&t, "/api/v1/support-items").await;
        r.body
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == "esocial")
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let text = scrape(&app).await;
    assert_eq!(
        sample(&text, "gmud_jobs_due", &[("kind", "sla_breach")]),
        0.0
    );
    // Opening a ticket queues its clocks' breach timers, due later.
    let t = app.token("customer.acme").await;
    let r = app
        .post(
            &t,
            "/api/v1/tickets",
            json!({"item_id": item, "title": "eSocial fora do ar", "description": "Eventos S-1200 rejeitados", "priority": "high"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let due: chrono::DateTime<chrono::Utc> = r.body["clocks"]["first_response"]["due_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let text = scrape(&app).await;
    assert_eq!(
        sample(&text, "gmud_jobs_due", &[("kind", "sla_breach")]),
        0.0
    );

    // 90 s past the first response's due instant: its breach timer has waited 90 s.
    app.set_now(due + chrono::Duration::seconds(90));
    let text = scrape(&app).await;
    assert_eq!(
        sample(&text, "gmud_jobs_due", &[("kind", "sla_breach")]),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "gmud_jobs_oldest_due_age_seconds",
            &[("kind", "sla_breach")]
        ),
        90.0
    );
    let breaches = |t: &str| sample(t, "gmud_sla_breaches_total", &[("clock", "response")]);
    let before = breaches(&text);

    // The worker records the breach: the backlog empties and the breach is counted.
    app.run_jobs().await;
    let text = scrape(&app).await;
    assert_eq!(
        sample(&text, "gmud_jobs_due", &[("kind", "sla_breach")]),
        0.0
    );
    assert_eq!(
        sample(
            &text,
            "gmud_jobs_oldest_due_age_seconds",
            &[("kind", "sla_breach")]
        ),
        0.0
    );
    assert!(breaches(&text) >= before + 1.0, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_has_a_request_id_and_every_problem_carries_it() {
    let app = TestApp::spawn().await;
    let ok = app.get("", "/health").await;
    assert!(is_uuid(&request_id(&ok)), "{:?}", ok.headers);
    let token = app.token("rh1").await;
    let mut problems = vec![
        // The default service: no such route, and a route without this method.
        app.get("", "/api/v1/nowhere").await,
        app.delete("", "/api/v1/rdms/7").await,
        // No token.
        app.get("", "/api/v1/me").await,
        // A path that is not a number; a query that does not parse.
        app.get(&token, "/api/v1/tickets/abc").await,
        app.get(&token, "/api/v1/tickets?limit=many").await,
    ];
    // A body that is not JSON.
    let r = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    problems.push(Resp {
        status,
        body: r.json().await.unwrap(),
        headers,
    });
    // A refused transition (409).
    let id = app
        .rdm_po_approved(normal_rdm("Atualizar leiaute", 1))
        .await;
    problems.push(app.act("gm", id, "approve", None).await);

    let statuses: Vec<u16> = problems.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![404, 405, 401, 404, 422, 400, 409]);
    let mut ids = std::collections::HashSet::new();
    for r in &problems {
        assert!(
            r.content_type().starts_with("application/problem+json"),
            "{r:?}"
        );
        let id = request_id(r);
        assert!(is_uuid(&id), "{id}");
        assert_eq!(r.body["request_id"], id.as_str(), "{r:?}");
        // The rest of the document is as before.
        assert!(
            r.body["code"].is_string() && r.body["status"] == r.status,
            "{r:?}"
        );
        ids.insert(id);
    }
    assert_eq!(ids.len(), problems.len(), "ids are not reused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_well_formed_incoming_request_id_is_kept_and_anything_else_replaced() {
    let app = TestApp::spawn().await;
    let send = |id: reqwest::header::HeaderValue| {
        app.client
            .get(app.url("/api/v1/nowhere"))
            .header("x-request-id", id)
            .send()
    };
    let kept = "3f2c1a9e-0b7d-4c2e-9a51-7d0e8f6b2c11";
    let r = send(reqwest::header::HeaderValue::from_static(kept))
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], kept);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["request_id"], kept);
    let r = send(reqwest::header::HeaderValue::from_static("lb-01:req_42.a"))
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "lb-01:req_42.a");

    // Too long, not ASCII, markup, a quote, a space: each replaced by an id of our own.
    // (A newline cannot reach the server: HTTP/1.1 ends the header there.)
    let long = "a".repeat(129);
    for bad in [
        reqwest::header::HeaderValue::from_str(&long).unwrap(),
        reqwest::header::HeaderValue::from_bytes("req-ação".as_bytes()).unwrap(),
        reqwest::header::HeaderValue::from_static("<script>alert(1)</script>"),
        reqwest::header::HeaderValue::from_static("a\"b"),
        reqwest::header::HeaderValue::from_static("a b"),
    ] {
        let r = send(bad.clone()).await.unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(is_uuid(&id), "{bad:?} gave {id}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["request_id"], id.as_str());
    }
}
