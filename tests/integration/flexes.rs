//! Window flexes are consensual (SPEC §3.4): asked by the change manager, they count only
//! once every member of the CM approves; one rejection refuses them.
use gmud_tests::{at_sp, json, TestApp};
use serde_json::Value;

/// The first window's id and its flexes path, with a flex to 02:00–08:00 São Paulo asked.
async fn flex_asked(app: &TestApp) -> (i64, String, i64) {
    let windows = app.windows_from(app.now()).await;
    let wid = windows[0]["id"].as_i64().unwrap();
    assert_eq!(windows[0]["starts_at"], "2026-11-26T03:00:00Z");
    let flexes = format!("/api/v1/windows/{wid}/flexes");
    let gm = app.token("gm").await;
    let r = app
        .post(
            &gm,
            &flexes,
            json!({"starts_at": at_sp(2026, 11, 26, 2, 0), "ends_at": at_sp(2026, 11, 26, 8, 0), "reason": "Fornecedor de nuvem em manutenção até 02h"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["approvals"], 0);
    assert_eq!(r.body["votes"], json!([]));
    let (cm1, cm2) = (app.user_id("cm1").await, app.user_id("cm2").await);
    assert_eq!(r.body["pending_voter_ids"], json!([cm1, cm2]));
    (wid, flexes, r.body["id"].as_i64().unwrap())
}

async fn window(app: &TestApp, wid: i64) -> Value {
    let gm = app.token("gm").await;
    let r = app.get(&gm, &format!("/api/v1/windows/{wid}")).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

#[tokio::test]
async fn a_flex_counts_once_every_cm_member_approves() {
    let app = TestApp::spawn().await;
    let (wid, flexes, fid) = flex_asked(&app).await;
    let approve = format!("{flexes}/{fid}/approve");
    let (cm1, cm2) = (app.user_id("cm1").await, app.user_id("cm2").await);

    let r = app
        .post(
            &app.token("cm1").await,
            &approve,
            json!({"reason": "De acordo"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["flex"]["status"], "pending");
    assert_eq!(r.body["reason"], "De acordo");
    assert_eq!(r.body["flex"]["pending_voter_ids"], json!([cm2]));
    assert_eq!(r.body["flex"]["votes"][0]["voter_id"].as_i64(), Some(cm1));
    assert_eq!(r.body["flex"]["votes"][0]["decision"], "approve");
    assert_eq!(r.body["flex"]["votes"][0]["reason"], "De acordo");
    assert!(r.body["flex"]["decided_by"].is_null());
    // The window has not moved.
    let w = window(&app, wid).await;
    assert_eq!(
        (w["starts_at"].as_str(), w["flexed"].as_bool()),
        (Some("2026-11-26T03:00:00Z"), Some(false))
    );
    assert_eq!(w["flexes"][0]["status"], "pending");
    assert_eq!(w["flexes"][0]["approvals"], 1);
    assert_eq!(w["flexes"][0]["pending_voter_ids"], json!([cm2]));
    // While it is pending no other flex may be asked.
    let r = app
        .post(
            &app.token("gm").await,
            &flexes,
            json!({"starts_at": at_sp(2026, 11, 26, 1, 0), "ends_at": at_sp(2026, 11, 26, 7, 0), "reason": "Outro"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("flex_pending"))
    );

    let r = app.post_empty(&app.token("cm2").await, &approve).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["flex"]["status"], "approved");
    assert_eq!(r.body["flex"]["decided_by"].as_i64(), Some(cm2));
    assert_eq!(r.body["flex"]["approvals"], 2);
    assert_eq!(r.body["flex"]["rejections"], 0);
    assert_eq!(r.body["window"]["starts_at"], "2026-11-26T05:00:00Z");
    assert_eq!(r.body["window"]["ends_at"], "2026-11-26T11:00:00Z");
    let w = window(&app, wid).await;
    assert_eq!(
        (w["starts_at"].as_str(), w["flexed"].as_bool()),
        (Some("2026-11-26T05:00:00Z"), Some(true))
    );
    let voters: Vec<i64> = w["flexes"][0]["votes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["voter_id"].as_i64().unwrap())
        .collect();
    assert_eq!(voters, [cm1, cm2]);
    assert_eq!(w["flexes"][0]["pending_voter_ids"], json!([]));
}

#[tokio::test]
async fn one_rejection_refuses_a_flex() {
    let app = TestApp::spawn().await;
    let (wid, flexes, fid) = flex_asked(&app).await;
    let cm1 = app.token("cm1").await;
    let r = app
        .post_empty(&cm1, &format!("{flexes}/{fid}/approve"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let cm2 = app.token("cm2").await;
    let reject = format!("{flexes}/{fid}/reject");
    let r = app.post(&cm2, &reject, json!({"reason": "  "})).await;
    assert_eq!((r.status, r.fields()), (422, vec!["reason".to_string()]));
    let r = app
        .post(
            &cm2,
            &reject,
            json!({"reason": "Horário comercial do cliente"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["flex"]["status"], "rejected");
    assert_eq!(
        r.body["flex"]["decided_by"].as_i64(),
        Some(app.user_id("cm2").await)
    );
    assert_eq!(
        r.body["flex"]["decision_reason"],
        "Horário comercial do cliente"
    );
    assert_eq!(
        (
            r.body["flex"]["approvals"].as_i64(),
            r.body["flex"]["rejections"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(r.body["window"]["starts_at"], "2026-11-26T03:00:00Z");
    assert_eq!(r.body["window"]["flexed"], false);
    let r = app
        .post_empty(&cm1, &format!("{flexes}/{fid}/approve"))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("flex_decided"))
    );
    // A rejection alone is enough, even as the first vote; and a new flex may now be asked.
    let gm = app.token("gm").await;
    let r = app
        .post(
            &gm,
            &flexes,
            json!({"starts_at": at_sp(2026, 11, 26, 0, 0), "ends_at": at_sp(2026, 11, 26, 7, 0), "reason": "Estender uma hora"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let fid2 = r.body["id"].as_i64().unwrap();
    let r = app
        .post(
            &cm1,
            &format!("{flexes}/{fid2}/reject"),
            json!({"reason": "Não"}),
        )
        .await;
    assert_eq!(r.body["flex"]["status"], "rejected", "{r:?}");
    let w = window(&app, wid).await;
    assert_eq!(w["ends_at"], "2026-11-26T09:00:00Z");
    let statuses: Vec<&str> = w["flexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["rejected", "rejected"]);
}

#[tokio::test]
async fn only_members_of_the_cm_vote_on_a_flex() {
    let app = TestApp::spawn().await;
    let (_, flexes, fid) = flex_asked(&app).await;
    let approve = format!("{flexes}/{fid}/approve");
    // cme1 sits on the CME only; cm3 holds the role but sits on no committee.
    for u in ["cme1", "cm3", "gm", "admin", "customer.acme"] {
        let t = app.token(u).await;
        let r = app.post_empty(&t, &approve).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (403, Some("forbidden")),
            "{u}: {r:?}"
        );
        let r = app
            .post(
                &t,
                &format!("{flexes}/{fid}/reject"),
                json!({"reason": "Não"}),
            )
            .await;
        assert_eq!(r.status, 403, "{u}: {r:?}");
    }
    assert_eq!(app.count("SELECT count(*) FROM window_flex_votes").await, 0);
}

#[tokio::test]
async fn concurrent_approvals_both_count() {
    let app = TestApp::spawn().await;
    let (wid, flexes, fid) = flex_asked(&app).await;
    let approve = format!("{flexes}/{fid}/approve");
    let (t1, t2) = (app.token("cm1").await, app.token("cm2").await);
    let (a, b) = tokio::join!(app.post_empty(&t1, &approve), app.post_empty(&t2, &approve));
    assert_eq!((a.status, b.status), (200, 200), "{a:?} {b:?}");
    let mut statuses = [
        a.body["flex"]["status"].as_str().unwrap(),
        b.body["flex"]["status"].as_str().unwrap(),
    ];
    statuses.sort();
    assert_eq!(statuses, ["approved", "pending"]);
    assert_eq!(window(&app, wid).await["flexed"], true);
}

#[tokio::test]
async fn a_member_who_joins_the_cm_must_approve_too() {
    let app = TestApp::spawn().await;
    let (wid, flexes, fid) = flex_asked(&app).await;
    let approve = format!("{flexes}/{fid}/approve");
    let admin = app.token("admin").await;
    let committees = app.get(&admin, "/api/v1/committees").await;
    let cm = committees
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "CM")
        .expect("the CM")["id"]
        .as_i64()
        .unwrap();
    let cm3 = app.user_id("cm3").await;
    let r = app
        .post(
            &admin,
            &format!("/api/v1/committees/{cm}/members"),
            json!({"user_id": cm3}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    for u in ["cm1", "cm2"] {
        let r = app.post_empty(&app.token(u).await, &approve).await;
        assert_eq!(r.status, 200, "{u}: {r:?}");
        assert_eq!(r.body["flex"]["status"], "pending", "{u}");
    }
    assert_eq!(
        window(&app, wid).await["flexes"][0]["pending_voter_ids"],
        json!([cm3])
    );
    let r = app.post_empty(&app.token("cm3").await, &approve).await;
    assert_eq!(r.body["flex"]["status"], "approved", "{r:?}");
}

#[tokio::test]
async fn cm_members_are_mailed_a_flex_request() {
    let app = TestApp::spawn().await;
    app.run_jobs().await;
    let (wid, _, fid) = flex_asked(&app).await;
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE kind = 'mail' AND status = 'pending'")
            .await,
        2,
        "one per CM member, written with the request"
    );
    app.run_jobs().await;
    for u in ["cm1", "cm2"] {
        let mails = app.mails_to(u).await;
        assert_eq!(mails.len(), 1, "{u}: {mails:?}");
        let m = &mails[0];
        assert!(m.subject.contains("Flexibilização"), "{}", m.subject);
        assert!(
            m.text.contains("Fornecedor de nuvem em manutenção até 02h"),
            "{}",
            m.text
        );
        assert!(
            m.text
                .contains(&format!("/api/v1/windows/{wid}/flexes/{fid}/approve")),
            "{}",
            m.text
        );
    }
    for u in ["cm3", "cme1", "gm"] {
        assert!(app.mails_to(u).await.is_empty(), "{u}");
    }
    // A refused request writes no mail.
    let gm = app.token("gm").await;
    let r = app
        .post(
            &gm,
            &format!("/api/v1/windows/{wid}/flexes"),
            json!({"starts_at": at_sp(2026, 11, 26, 2, 0), "ends_at": at_sp(2026, 11, 26, 9, 0), "reason": "De novo"}),
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert!(app.run_jobs().await.is_empty());
}
