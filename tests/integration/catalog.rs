//! Configuration: catalogue (organisations, topologies, services, items), business-hours
//! calendars and their deadline arithmetic, users and standard templates.
use gmud_tests::{json, Resp, TestApp};
use serde_json::Value;

/// A 422 naming `field`.
fn assert_invalid(r: &Resp, field: &str) {
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["code"], "validation_failed", "{r:?}");
    assert!(
        r.fields().iter().any(|f| f == field),
        "expected an error on `{field}`: {r:?}"
    );
}

fn by_code<'a>(list: &'a Value, code: &str) -> &'a Value {
    list.as_array()
        .and_then(|a| a.iter().find(|v| v["code"] == code))
        .unwrap_or_else(|| panic!("no {code} in {list}"))
}

async fn id_of(app: &TestApp, path: &str, code: &str) -> i64 {
    let t = app.token("gm").await;
    let r = app.get(&t, path).await;
    assert_eq!(r.status, 200, "{r:?}");
    by_code(&r.body, code)["id"].as_i64().unwrap()
}

async fn first_topology(app: &TestApp, org: i64) -> i64 {
    let t = app.token("gm").await;
    let r = app
        .get(&t, &format!("/api/v1/organizations/{org}/topologies"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body[0]["id"].as_i64().unwrap()
}

async fn br_sp(app: &TestApp) -> i64 {
    id_of(app, "/api/v1/calendars", "BR-SP").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_follow_the_spec_examples_and_skip_holidays() {
    let app = TestApp::spawn().await;
    let cal = br_sp(&app).await;
    // Every role reads deadlines: the portal shows them to customers.
    let t = app.token("customer.acme").await;
    let deadline = |from: &str, hours: &str| {
        format!("/api/v1/calendars/{cal}/deadline?from={from}&hours={hours}")
    };

    // SPEC §6: resolved Monday 09:00 → closes the next Monday 09:00.
    let r = app.get(&t, &deadline("2026-11-23T12:00:00Z", "60")).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["deadline"], "2026-11-30T12:00:00Z");
    assert_eq!(r.body["deadline_local"], "2026-11-30T09:00:00-03:00");
    assert_eq!(r.body["from"], "2026-11-23T12:00:00Z");
    assert_eq!(r.body["timezone"], "America/Sao_Paulo");
    assert_eq!(r.body["calendar_id"], cal);
    assert_eq!(r.body["hours"], 60.0);

    // SPEC §6: resolved Friday 18:00 → closes the next Friday 18:00 (not the next opening).
    let r = app.get(&t, &deadline("2026-11-27T21:00:00Z", "60")).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["deadline"], "2026-12-04T21:00:00Z");
    assert_eq!(r.body["deadline_local"], "2026-12-04T18:00:00-03:00");

    // Thursday 2026-11-19 09:00 + 24h: Thursday gives 10h, Friday 20 is Consciência Negra,
    // Monday gives 12h, Tuesday the last 2h.
    let r = app.get(&t, &deadline("2026-11-19T12:00:00Z", "24")).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["deadline"], "2026-11-24T12:00:00Z");

    // An offset in the start, fractional hours.
    let r = app
        .get(&t, &deadline("2026-11-23T09:00:00-03:00", "1.5"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["deadline"], "2026-11-23T13:30:00Z");

    // `from` defaults to the server's clock (Monday 2026-11-23 09:00 in São Paulo).
    let r = app
        .get(&t, &format!("/api/v1/calendars/{cal}/deadline?hours=60"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["deadline"], "2026-11-30T12:00:00Z");

    // Business time between the same instants as the holiday case: 24 hours.
    let r = app
        .get(&t, &format!("/api/v1/calendars/{cal}/business-time?from=2026-11-19T12:00:00Z&to=2026-11-24T12:00:00Z"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["minutes"], 24 * 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_deadline_parameters_are_named() {
    let app = TestApp::spawn().await;
    let cal = br_sp(&app).await;
    let t = app.token("requester").await;
    let base = format!("/api/v1/calendars/{cal}");
    assert_invalid(&app.get(&t, &format!("{base}/deadline")).await, "hours");
    assert_invalid(
        &app.get(&t, &format!("{base}/deadline?hours=abc")).await,
        "hours",
    );
    assert_invalid(
        &app.get(&t, &format!("{base}/deadline?hours=-1")).await,
        "hours",
    );
    assert_invalid(
        &app.get(&t, &format!("{base}/deadline?hours=100001")).await,
        "hours",
    );
    assert_invalid(
        &app.get(&t, &format!("{base}/deadline?hours=NaN")).await,
        "hours",
    );
    assert_invalid(
        &app.get(&t, &format!("{base}/deadline?hours=1&from=yesterday"))
            .await,
        "from",
    );
    assert_invalid(
        &app.get(
            &t,
            &format!("{base}/deadline?hours=1&from=9999-01-01T00:00:00Z"),
        )
        .await,
        "from",
    );
    // Both wrong: both named.
    let r = app
        .get(&t, &format!("{base}/deadline?hours=x&from=y"))
        .await;
    assert_invalid(&r, "hours");
    assert_invalid(&r, "from");
    assert_invalid(
        &app.get(
            &t,
            &format!("{base}/business-time?from=2026-11-19T12:00:00Z"),
        )
        .await,
        "to",
    );
    assert_invalid(
        &app.get(
            &t,
            &format!("{base}/business-time?from=2026-11-19T12:00:00Z&to=2026-11-18T12:00:00Z"),
        )
        .await,
        "to",
    );
    let r = app
        .get(&t, "/api/v1/calendars/999999/deadline?hours=1")
        .await;
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(r.body["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendars_are_validated_by_the_domain_and_hold_holidays() {
    let app = TestApp::spawn().await;
    let gm = app.token("gm").await;
    let base = json!({
        "code": "BR-RJ", "name": "Rio de Janeiro", "timezone": "America/Sao_Paulo",
        "working_days": ["monday", "tuesday", "wednesday", "thursday", "friday"],
        "business_hours": [{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}]
    });
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };

    let r = app
        .post(
            &gm,
            "/api/v1/calendars",
            with(
                "business_hours",
                json!([{"start": "07:00", "end": "13:00"}, {"start": "12:00", "end": "19:00"}]),
            ),
        )
        .await;
    assert_invalid(&r, "business_hours");
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("overlap"),
        "{r:?}"
    );
    let r = app
        .post(
            &gm,
            "/api/v1/calendars",
            with(
                "business_hours",
                json!([{"start": "19:00", "end": "07:00"}]),
            ),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.fields()[0].starts_with("business_hours"), "{r:?}");
    assert_invalid(
        &app.post(&gm, "/api/v1/calendars", with("business_hours", json!([])))
            .await,
        "business_hours",
    );
    assert_invalid(
        &app.post(
            &gm,
            "/api/v1/calendars",
            with("working_days", json!(["funday"])),
        )
        .await,
        "working_days",
    );
    assert_invalid(
        &app.post(
            &gm,
            "/api/v1/calendars",
            with("timezone", json!("Mars/Olympus")),
        )
        .await,
        "timezone",
    );
    let r = app
        .post(
            &app.token("requester").await,
            "/api/v1/calendars",
            base.clone(),
        )
        .await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(
        app.count("SELECT count(*) FROM calendars WHERE code = 'BR-RJ'")
            .await,
        0
    );

    let r = app.post(&gm, "/api/v1/calendars", base.clone()).await;
    assert_eq!(r.status, 201, "{r:?}");
    let cal = r.body["id"].as_i64().unwrap();
    assert_eq!(
        r.body["business_hours"][1],
        json!({"start": "13:00", "end": "18:00"})
    );
    let r = app.post(&gm, "/api/v1/calendars", base.clone()).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "already_exists");

    // A partial holiday (open 08:00–10:00 only) on Tuesday 2026-12-01.
    let path = format!("/api/v1/calendars/{cal}/holidays");
    let hol = json!({"date": "2026-12-01", "name": "Ponto facultativo", "open": [{"start": "08:00", "end": "10:00"}]});
    let r = app.post(&gm, &path, hol.clone()).await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["open"], json!([{"start": "08:00", "end": "10:00"}]));
    let r = app.post(&gm, &path, hol.clone()).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "already_exists");
    let r = app
        .post(&gm, &path, json!({"date": "2026-12-02", "name": "x", "open": [{"start": "08:00", "end": "10:00"}, {"start": "09:00", "end": "11:00"}]}))
        .await;
    assert_invalid(&r, "open");
    assert_invalid(
        &app.post(&gm, &path, json!({"date": "2026-13-01", "name": "x"}))
            .await,
        "date",
    );
    assert_eq!(
        app.post(&gm, "/api/v1/calendars/999999/holidays", hol.clone())
            .await
            .status,
        404
    );

    // Monday 2026-11-30 17:00 + 4h: 1h Monday, 2h Tuesday (the partial day), 1h Wednesday.
    let r = app
        .get(
            &gm,
            &format!("/api/v1/calendars/{cal}/deadline?from=2026-11-30T20:00:00Z&hours=4"),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["deadline_local"], "2026-12-02T09:00:00-03:00");

    let r = app
        .get(&gm, &format!("/api/v1/calendars/{cal}?year=2026"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["holidays"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["holidays"][0]["date"], "2026-12-01");
    let r = app
        .get(&gm, &format!("/api/v1/calendars/{cal}?year=2027"))
        .await;
    assert_eq!(r.body["holidays"], json!([]));
    assert_invalid(
        &app.get(&gm, &format!("/api/v1/calendars/{cal}?year=soon"))
            .await,
        "year",
    );

    let r = app.delete(&gm, &format!("{path}/2026-12-01")).await;
    assert_eq!(r.status, 204, "{r:?}");
    let r = app.delete(&gm, &format!("{path}/2026-12-01")).await;
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(r.body["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeded_calendar_lists_brazils_holidays_by_date() {
    let app = TestApp::spawn().await;
    let cal = br_sp(&app).await;
    let t = app.token("customer.globex").await;
    let r = app
        .get(&t, &format!("/api/v1/calendars/{cal}?year=2026"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.body["working_days"],
        json!(["monday", "tuesday", "wednesday", "thursday", "friday"])
    );
    assert_eq!(
        r.body["business_hours"],
        json!([{"start": "07:00", "end": "19:00"}])
    );
    let hols = r.body["holidays"].as_array().unwrap();
    let dates: Vec<&str> = hols.iter().map(|h| h["date"].as_str().unwrap()).collect();
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted);
    assert!(dates.iter().all(|d| d.starts_with("2026-")), "{dates:?}");
    let consciencia = hols
        .iter()
        .find(|h| h["date"] == "2026-11-20")
        .expect("2026-11-20");
    assert_eq!(consciencia["open"], json!([]));
    let cinzas = hols
        .iter()
        .find(|h| h["date"] == "2026-02-18")
        .expect("Ash Wednesday");
    assert_eq!(cinzas["open"], json!([{"start": "12:00", "end": "19:00"}]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_sees_only_its_own_organisation() {
    let app = TestApp::spawn().await;
    let acme = id_of(&app, "/api/v1/organizations", "ACME").await;
    let globex = id_of(&app, "/api/v1/organizations", "GLOBEX").await;
    let t = app.token("customer.acme").await;

    let r = app.get(&t, "/api/v1/organizations").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{r:?}");
    assert_eq!(r.body[0]["code"], "ACME");
    assert_eq!(
        app.get(&t, &format!("/api/v1/organizations/{acme}"))
            .await
            .status,
        200
    );
    let r = app
        .get(&t, &format!("/api/v1/organizations/{globex}"))
        .await;
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(r.body["code"], "not_found");
    assert_eq!(
        app.get(&t, &format!("/api/v1/organizations/{globex}/topologies"))
            .await
            .status,
        404
    );
    let r = app
        .get(&t, &format!("/api/v1/organizations/{acme}/topologies"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let names: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme-cloud", "acme-onprem"]);

    // Items: only ACME's, even when asking for GLOBEX's.
    let r = app.get(&t, "/api/v1/configuration-items").await;
    assert_eq!(r.status, 200, "{r:?}");
    let items = r.body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["organization_id"] == acme), "{r:?}");
    let r = app
        .get(
            &t,
            &format!("/api/v1/configuration-items?organization_id={globex}"),
        )
        .await;
    assert_eq!(r.body["items"], json!([]), "{r:?}");
    let gm = app.token("gm").await;
    let r = app
        .get(
            &gm,
            &format!("/api/v1/configuration-items?organization_id={globex}"),
        )
        .await;
    let globex_item = r.body["items"][0]["id"].as_i64().expect("a GLOBEX item");
    assert_eq!(
        app.get(&t, &format!("/api/v1/configuration-items/{globex_item}"))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&gm, &format!("/api/v1/configuration-items/{globex_item}"))
            .await
            .status,
        200
    );

    // Staff see both.
    let r = app.get(&gm, "/api/v1/organizations").await;
    assert_eq!(r.body.as_array().unwrap().len(), 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organisations_and_services_are_created_by_admins_and_change_managers() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let r = app
        .post(
            &admin,
            "/api/v1/organizations",
            json!({"code": "INITECH", "name": "Initech"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["timezone"], "America/Sao_Paulo");
    let org = r.body["id"].as_i64().unwrap();
    let r = app
        .post(
            &admin,
            "/api/v1/organizations",
            json!({"code": "INITECH", "name": "Again"}),
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "already_exists");
    let r = app
        .post(
            &admin,
            "/api/v1/organizations",
            json!({"code": "ACME", "name": "Acme again"}),
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "already_exists");
    assert_invalid(
        &app.post(
            &admin,
            "/api/v1/organizations",
            json!({"code": "X", "name": "X", "timezone": "Nowhere/City"}),
        )
        .await,
        "timezone",
    );
    assert_invalid(
        &app.post(
            &admin,
            "/api/v1/organizations",
            json!({"code": "", "name": "X"}),
        )
        .await,
        "code",
    );
    assert_invalid(
        &app.post(
            &admin,
            "/api/v1/organizations",
            json!({"code": "   ", "name": "X"}),
        )
        .await,
        "code",
    );
    assert_invalid(
        &app.post(
            &admin,
            "/api/v1/organizations",
            json!({"code": "a".repeat(41), "name": "X"}),
        )
        .await,
        "code",
    );
    let r = app
        .post(
            &app.token("requester").await,
            "/api/v1/organizations",
            json!({"code": "Y", "name": "Y"}),
        )
        .await;
    assert_eq!(r.status, 403, "{r:?}");

    let gm = app.token("gm").await;
    let r = app
        .post(
            &gm,
            &format!("/api/v1/organizations/{org}/topologies"),
            json!({"name": "initech-cloud", "description": "AWS"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["organization_id"], org);
    let r = app
        .post(
            &gm,
            &format!("/api/v1/organizations/{org}/topologies"),
            json!({"name": "initech-cloud"}),
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(
        app.post(
            &gm,
            "/api/v1/organizations/999999/topologies",
            json!({"name": "x"})
        )
        .await
        .status,
        404
    );

    let r = app
        .post(
            &gm,
            "/api/v1/services",
            json!({"code": "REINF", "name": "EFD-Reinf"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let r = app
        .post(
            &gm,
            "/api/v1/services",
            json!({"code": "ESOCIAL", "name": "dup"}),
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    let r = app
        .get(&app.token("customer.acme").await, "/api/v1/services")
        .await;
    assert_eq!(r.status, 200);
    let codes: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["ESOCIAL", "PORTAL", "REINF", "TAF"]);

    let r = app
        .get(&app.token("agent").await, "/api/v1/environments")
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, json!(["production", "homologation"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_items_check_what_they_refer_to() {
    let app = TestApp::spawn().await;
    let gm = app.token("gm").await;
    let acme = id_of(&app, "/api/v1/organizations", "ACME").await;
    let globex = id_of(&app, "/api/v1/organizations", "GLOBEX").await;
    let esocial = id_of(&app, "/api/v1/services", "ESOCIAL").await;
    let globex_topo = first_topology(&app, globex).await;
    let acme_topo = first_topology(&app, acme).await;
    let before = app.count("SELECT count(*) FROM configuration_items").await;

    let item = |org: i64, topology: Option<i64>, service: i64, name: &str| json!({"organization_id": org, "topology_id": topology, "environment": "production", "service_id": service, "name": name});
    let r = app
        .post(
            &gm,
            "/api/v1/configuration-items",
            item(acme, Some(globex_topo), esocial, "acme-x"),
        )
        .await;
    assert_invalid(&r, "topology_id");
    let r = app
        .post(
            &gm,
            "/api/v1/configuration-items",
            item(acme, Some(999_999), esocial, "acme-x"),
        )
        .await;
    assert_invalid(&r, "topology_id");
    let r = app
        .post(
            &gm,
            "/api/v1/configuration-items",
            item(999_999, None, 999_999, "acme-x"),
        )
        .await;
    assert_invalid(&r, "organization_id");
    assert_invalid(&r, "service_id");
    let mut bad_env = item(acme, None, esocial, "acme-x");
    bad_env["environment"] = json!("staging");
    assert_invalid(
        &app.post(&gm, "/api/v1/configuration-items", bad_env).await,
        "environment",
    );
    let r = app
        .post(
            &app.token("requester").await,
            "/api/v1/configuration-items",
            item(acme, None, esocial, "acme-x"),
        )
        .await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(
        app.count("SELECT count(*) FROM configuration_items").await,
        before
    );

    let r = app
        .post(
            &gm,
            "/api/v1/configuration-items",
            item(acme, Some(acme_topo), esocial, "acme-x"),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["environment"], "production");
    assert_eq!(r.body["topology_id"], acme_topo);
    let id = r.body["id"].as_i64().unwrap();
    let r = app
        .post(
            &gm,
            "/api/v1/configuration-items",
            item(acme, None, esocial, "acme-x"),
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "already_exists");
    let r = app
        .get(&gm, &format!("/api/v1/configuration-items/{id}"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["name"], "acme-x");

    // Filters and pages.
    let r = app
        .get(&gm, &format!("/api/v1/configuration-items?organization_id={acme}&service_id={esocial}&environment=production"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let items = r.body["items"].as_array().unwrap();
    assert!(items.len() >= 2, "{r:?}");
    assert!(items.iter().all(|i| i["organization_id"] == acme
        && i["service_id"] == esocial
        && i["environment"] == "production"));
    let mut seen = Vec::new();
    let mut cursor: Option<i64> = None;
    loop {
        let path = match cursor {
            Some(c) => format!("/api/v1/configuration-items?limit=5&cursor={c}"),
            None => "/api/v1/configuration-items?limit=5".to_string(),
        };
        let r = app.get(&gm, &path).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert!(r.body["items"].as_array().unwrap().len() <= 5);
        seen.extend(
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap()),
        );
        match r.body["next_cursor"].as_i64() {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, before + 1);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_invalid(
        &app.get(&gm, "/api/v1/configuration-items?environment=staging")
            .await,
        "environment",
    );
    assert_invalid(
        &app.get(&gm, "/api/v1/configuration-items?limit=0").await,
        "limit",
    );
    assert_invalid(
        &app.get(&gm, "/api/v1/configuration-items?organization_id=acme")
            .await,
        "organization_id",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_create_users_who_can_then_log_in() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let acme = id_of(&app, "/api/v1/organizations", "ACME").await;
    let user = json!({
        "username": "maria.silva", "display_name": "Maria Silva", "email": "maria@example.com",
        "password": "correct horse battery", "roles": ["change_manager", "committee_member"]
    });

    let r = app
        .post(&app.token("gm").await, "/api/v1/users", user.clone())
        .await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(r.body["code"], "forbidden");

    let mut customer = user.clone();
    customer["username"] = json!("cliente.sem.org");
    customer["roles"] = json!(["customer"]);
    assert_invalid(
        &app.post(&admin, "/api/v1/users", customer.clone()).await,
        "organization_id",
    );
    customer["organization_id"] = json!(999_999);
    assert_invalid(
        &app.post(&admin, "/api/v1/users", customer.clone()).await,
        "organization_id",
    );
    let mut analyst = user.clone();
    analyst["roles"] = json!(["requester"]);
    analyst["team"] = json!("cloud");
    assert_invalid(&app.post(&admin, "/api/v1/users", analyst).await, "team");
    let mut bad = user.clone();
    bad["username"] = json!("Maria Silva");
    bad["email"] = json!("not-an-email");
    bad["password"] = json!("short");
    bad["roles"] = json!([]);
    let r = app.post(&admin, "/api/v1/users", bad).await;
    for f in ["username", "email", "password", "roles"] {
        assert_invalid(&r, f);
    }
    let mut bad_role = user.clone();
    bad_role["roles"] = json!(["root"]);
    let r = app.post(&admin, "/api/v1/users", bad_role).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.fields()[0].starts_with("roles"), "{r:?}");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM users WHERE username IN ('maria.silva', 'cliente.sem.org')"
        )
        .await,
        0
    );

    let r = app.post(&admin, "/api/v1/users", user.clone()).await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["username"], "maria.silva");
    assert_eq!(
        r.body["roles"],
        json!(["change_manager", "committee_member"])
    );
    assert!(
        r.body.get("password").is_none() && r.body.get("password_hash").is_none(),
        "{r:?}"
    );
    let id = r.body["id"].as_i64().unwrap();
    let r = app.post(&admin, "/api/v1/users", user.clone()).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "already_exists");

    let r = app
        .post(
            "",
            "/api/v1/auth/token",
            json!({"username": "maria.silva", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let maria = r.body["access_token"].as_str().unwrap().to_string();
    let me = app.get(&maria, "/api/v1/me").await;
    assert_eq!(me.body["id"], id);
    // A change manager reads the directory.
    let r = app.get(&maria, &format!("/api/v1/users/{id}")).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["email"], "maria@example.com");

    customer["organization_id"] = json!(acme);
    let r = app.post(&admin, "/api/v1/users", customer).await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["organization_id"], acme);
    let cid = r.body["id"].as_i64().unwrap();
    let r = app
        .post(
            "",
            "/api/v1/auth/token",
            json!({"username": "cliente.sem.org", "password": "correct horse battery"}),
        )
        .await;
    let ct = r.body["access_token"].as_str().unwrap().to_string();
    // Users see themselves, not others.
    assert_eq!(
        app.get(&ct, &format!("/api/v1/users/{cid}")).await.status,
        200
    );
    assert_eq!(
        app.get(&ct, &format!("/api/v1/users/{id}")).await.status,
        403
    );
    assert_eq!(app.get(&ct, "/api/v1/users").await.status, 403);
    let r = app.get(&ct, "/api/v1/organizations").await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_directory_filters_by_role_and_pages() {
    let app = TestApp::spawn().await;
    let gm = app.token("gm").await;
    let r = app.get(&gm, "/api/v1/users?role=committee_member").await;
    assert_eq!(r.status, 200, "{r:?}");
    let names: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    for n in ["cm1", "cm2", "cme1", "cme2", "cm3"] {
        assert!(names.contains(&n), "{names:?}");
    }
    assert!(!names.contains(&"gm"));
    assert!(r.body["items"][0].get("password_hash").is_none());
    let r = app.get(&gm, "/api/v1/users?role=support_analyst").await;
    let rh1 = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "rh1")
        .expect("rh1");
    assert_eq!(rh1["team"], "rh");

    let first = app.get(&gm, "/api/v1/users?limit=3").await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 3);
    let c = first.body["next_cursor"].as_i64().expect("more users");
    let second = app
        .get(&gm, &format!("/api/v1/users?limit=3&cursor={c}"))
        .await;
    assert!(second.body["items"][0]["id"].as_i64().unwrap() > c);
    assert_invalid(&app.get(&gm, "/api/v1/users?role=root").await, "role");
    assert_invalid(&app.get(&gm, "/api/v1/users?limit=201").await, "limit");
    assert_eq!(
        app.get(&app.token("requester").await, "/api/v1/users")
            .await
            .status,
        403
    );
    assert_eq!(app.get(&gm, "/api/v1/users/999999").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_managers_define_standard_templates() {
    let app = TestApp::spawn().await;
    let gm = app.token("gm").await;
    let tpl = json!({
        "code": "CERT-RENEW", "name": "Renovação de certificado",
        "description": "Troca do certificado A1 do cliente",
        "implementation_plan": "Importar o novo certificado; reiniciar o serviço",
        "estimated_duration_minutes": 30,
        "rollback_plan": "Reimportar o certificado anterior",
        "estimated_rollback_minutes": 15
    });
    let r = app
        .post(
            &app.token("admin").await,
            "/api/v1/standard-templates",
            tpl.clone(),
        )
        .await;
    assert_eq!(r.status, 403, "{r:?}");
    let mut bad = tpl.clone();
    bad["estimated_duration_minutes"] = json!(0);
    bad["estimated_rollback_minutes"] = json!(10081);
    let r = app.post(&gm, "/api/v1/standard-templates", bad).await;
    assert_invalid(&r, "estimated_duration_minutes");
    assert_invalid(&r, "estimated_rollback_minutes");

    let r = app
        .post(&gm, "/api/v1/standard-templates", tpl.clone())
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["active"], true);
    let id = r.body["id"].as_i64().unwrap();
    let r = app
        .post(&gm, "/api/v1/standard-templates", tpl.clone())
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["code"], "already_exists");

    let t = app.token("requester").await;
    let r = app.get(&t, "/api/v1/standard-templates").await;
    assert_eq!(r.status, 200, "{r:?}");
    let codes: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["CERT-RENEW", "ENV-UPDATE"]);
    let r = app
        .get(&t, &format!("/api/v1/standard-templates/{id}"))
        .await;
    assert_eq!(r.body["estimated_duration_minutes"], 30);
    assert_eq!(
        app.get(
            &app.token("customer.acme").await,
            "/api/v1/standard-templates"
        )
        .await
        .status,
        403
    );

    // A standard RDM can use it.
    let r = app
        .post(&t, "/api/v1/rdms", json!({"rdm_type": "standard", "title": "Renovar certificado", "standard_template_id": id}))
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["estimated_duration_minutes"], 30);
}
