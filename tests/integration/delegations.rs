//! Delegation: a committee member names a substitute for a period; the substitute's vote
//! counts for the member and the history says who cast it.
use chrono::Duration;
use gmud_tests::{json, TestApp};
use serde_json::Value;

const DELEGATIONS: &str = "/api/v1/delegations";

/// `username` names `substitute` from `from` to `to` (hours from now), for themselves.
async fn delegate(app: &TestApp, username: &str, substitute: &str, from: i64, to: i64) -> Value {
    let t = app.token(username).await;
    let now = app.now();
    let body = json!({
        "substitute_id": app.user_id(substitute).await,
        "starts_at": now + Duration::hours(from),
        "ends_at": now + Duration::hours(to),
        "reason": "Férias",
    });
    let r = app.post(&t, DELEGATIONS, body).await;
    assert_eq!(r.status, 201, "{r:?}");
    r.body
}

async fn vote_for(app: &TestApp, substitute: &str, rdm: i64, member: i64) -> gmud_tests::Resp {
    let t = app.token(substitute).await;
    app.post(
        &t,
        &format!("/api/v1/rdms/{rdm}/votes"),
        json!({"decision": "approve", "on_behalf_of": member}),
    )
    .await
}

#[tokio::test]
async fn a_substitute_votes_for_the_member_and_the_history_says_so() {
    let app = TestApp::spawn().await;
    let (cm1, cm3) = (app.user_id("cm1").await, app.user_id("cm3").await);
    // cm1 names cm3 (a committee member on no committee) for a period covering now.
    let d = delegate(&app, "cm1", "cm3", -1, 24 * 7).await;
    assert_eq!(
        (
            d["member_id"].as_i64(),
            d["substitute_id"].as_i64(),
            d["status"].as_str(),
            d["created_by"].as_i64()
        ),
        (Some(cm1), Some(cm3), Some("active"), Some(cm1))
    );
    assert_eq!(d["member_name"], "Membro do CM 1");
    assert_eq!(d["substitute_name"], "Membro convidado");
    assert_eq!(d["reason"], "Férias");
    assert!(d["revoked_at"].is_null());

    let id = app
        .rdm_awaiting_committee("Atualizar o leiaute S-1.3", 1)
        .await;
    // Without naming the member, cm3 is no required voter of this RDM.
    let t3 = app.token("cm3").await;
    let r = app
        .post(
            &t3,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, 403, "{r:?}");
    // For cm2, who named nobody: refused.
    let r = vote_for(&app, "cm3", id, app.user_id("cm2").await).await;
    assert_eq!(r.status, 403, "{r:?}");

    let r = vote_for(&app, "cm3", id, cm1).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["state"], "awaiting_committee", "cm2 still to vote");
    let gm = app.token("gm").await;
    let v = app.get(&gm, &format!("/api/v1/rdms/{id}/votes")).await;
    assert_eq!(v.status, 200, "{v:?}");
    assert_eq!(v.body["votes"].as_array().unwrap().len(), 1, "{v:?}");
    let vote = &v.body["votes"][0];
    assert_eq!(
        (
            vote["voter_id"].as_i64(),
            vote["cast_by"].as_i64(),
            vote["decision"].as_str()
        ),
        (Some(cm1), Some(cm3), Some("approve"))
    );
    assert_eq!(v.body["approvals"], 1);
    assert_eq!(
        v.body["pending_voter_ids"],
        json!([app.user_id("cm2").await])
    );

    let h = app.get(&gm, &format!("/api/v1/rdms/{id}/history")).await;
    let entry = h
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "vote")
        .cloned()
        .expect("a vote entry");
    assert_eq!(entry["actor_id"].as_i64(), Some(cm3), "{entry}");
    assert_eq!(entry["detail"]["substitute_id"].as_i64(), Some(cm3));
    assert_eq!(entry["detail"]["on_behalf_of"].as_i64(), Some(cm1));

    // The member's vote is in: neither the substitute nor the member votes twice.
    let r = vote_for(&app, "cm3", id, cm1).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("already_voted"))
    );
    let r = app
        .post(
            &app.token("cm1").await,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("already_voted"))
    );
    // cm2's approval completes the consensus.
    let r = app
        .post(
            &app.token("cm2").await,
            &format!("/api/v1/rdms/{id}/votes"),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["state"], "approved");
}

#[tokio::test]
async fn outside_the_period_or_once_revoked_the_substitute_cannot_vote() {
    let app = TestApp::spawn().await;
    let cm1 = app.user_id("cm1").await;
    let start = app.now();
    let id = app.rdm_awaiting_committee("Renovar certificado", 1).await;

    // Not yet started.
    let later = delegate(&app, "cm1", "cm3", 2, 4).await;
    assert_eq!(later["status"], "scheduled");
    let r = vote_for(&app, "cm3", id, cm1).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("forbidden"))
    );

    // Ended: the clock is after ends_at.
    app.set_now(start + Duration::hours(5));
    let r = vote_for(&app, "cm3", id, cm1).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("forbidden"))
    );
    let gm = app.token("gm").await;
    let lid = later["id"].as_i64().unwrap();
    let r = app.get(&gm, &format!("{DELEGATIONS}/{lid}")).await;
    assert_eq!(r.body["status"], "ended");
    let r = app
        .post_empty(&gm, &format!("{DELEGATIONS}/{lid}/revoke"))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("delegation_ended"))
    );

    // In force, then revoked by the member.
    let d = delegate(&app, "cm1", "cm3", 0, 24).await;
    let did = d["id"].as_i64().unwrap();
    // Someone else's delegation: not cm2's to revoke, nor a customer's.
    for u in ["cm2", "cm3", "customer.acme"] {
        let t = app.token(u).await;
        let r = app
            .post_empty(&t, &format!("{DELEGATIONS}/{did}/revoke"))
            .await;
        assert_eq!(r.status, 403, "{u}: {r:?}");
    }
    let t1 = app.token("cm1").await;
    let r = app
        .post_empty(&t1, &format!("{DELEGATIONS}/{did}/revoke"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["status"], "revoked");
    assert_eq!(r.body["revoked_by"].as_i64(), Some(cm1));
    assert_eq!(r.body["revoked_at"], json!(app.now()));
    let r = vote_for(&app, "cm3", id, cm1).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("forbidden"))
    );
    let r = app
        .post_empty(&t1, &format!("{DELEGATIONS}/{did}/revoke"))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (409, Some("delegation_revoked"))
    );
    let r = app
        .post_empty(&t1, &format!("{DELEGATIONS}/99999/revoke"))
        .await;
    assert_eq!(r.status, 404, "{r:?}");
    // Nothing was recorded for cm1.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM rdm_votes WHERE rdm_id = {id}"
        ))
        .await,
        0
    );

    // A revoked period is free again; a change manager names cm2 for cm1, and revokes it.
    let body = json!({
        "member_id": cm1,
        "substitute_id": app.user_id("cm2").await,
        "ends_at": app.now() + Duration::hours(24),
    });
    let r = app.post(&gm, DELEGATIONS, body).await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(
        r.body["starts_at"],
        json!(app.now()),
        "starts now by default"
    );
    assert_eq!(r.body["created_by"].as_i64(), Some(app.user_id("gm").await));
    let r = app
        .post_empty(&gm, &format!("{DELEGATIONS}/{}/revoke", r.body["id"]))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
}

#[tokio::test]
async fn delegations_are_checked() {
    let app = TestApp::spawn().await;
    let (cm1, cm2, cm3) = (
        app.user_id("cm1").await,
        app.user_id("cm2").await,
        app.user_id("cm3").await,
    );
    let now = app.now();
    let h = Duration::hours;
    let t1 = app.token("cm1").await;
    let first = delegate(&app, "cm1", "cm3", 24, 72).await;

    // Bad periods and people: 422 naming the field.
    let cases = [
        (
            json!({"substitute_id": cm3, "starts_at": now + h(10), "ends_at": now + h(5)}),
            "ends_at",
        ),
        (
            json!({"substitute_id": cm3, "starts_at": now - h(10), "ends_at": now - h(5)}),
            "ends_at",
        ),
        (
            json!({"substitute_id": cm3, "starts_at": now, "ends_at": now + Duration::days(181)}),
            "ends_at",
        ),
        (
            json!({"substitute_id": cm3, "starts_at": now + Duration::days(400), "ends_at": now + Duration::days(401)}),
            "starts_at",
        ),
        (json!({"substitute_id": cm3}), "ends_at"),
        (
            json!({"substitute_id": cm3, "ends_at": "tomorrow"}),
            "ends_at",
        ),
        (json!({"ends_at": now + h(5)}), "substitute_id"),
        (
            json!({"substitute_id": cm1, "ends_at": now + h(5)}),
            "substitute_id",
        ),
        (
            json!({"substitute_id": app.user_id("requester").await, "ends_at": now + h(5)}),
            "substitute_id",
        ),
        (
            json!({"substitute_id": 99999, "ends_at": now + h(5)}),
            "substitute_id",
        ),
        (
            json!({"substitute_id": cm3, "ends_at": now + h(5), "reason": "x".repeat(2001)}),
            "reason",
        ),
        (
            json!({"substitute_id": cm3, "ends_at": now + h(5), "colour": "blue"}),
            "colour",
        ),
    ];
    for (body, field) in cases {
        let r = app.post(&t1, DELEGATIONS, body.clone()).await;
        assert_eq!(
            (r.status, r.fields()),
            (422, vec![field.to_string()]),
            "{body}: {r:?}"
        );
    }
    // Several bad fields are named together.
    let r = app
        .post(
            &t1,
            DELEGATIONS,
            json!({"substitute_id": cm1, "starts_at": now + h(10), "ends_at": now + h(5)}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, ["ends_at", "substitute_id"]);
    // cm3 sits on no committee: it has no vote to delegate.
    let gm = app.token("gm").await;
    let r = app
        .post(
            &gm,
            DELEGATIONS,
            json!({"member_id": cm3, "substitute_id": cm2, "ends_at": now + h(5)}),
        )
        .await;
    assert_eq!(
        (r.status, r.fields()),
        (422, vec!["member_id".to_string()]),
        "{r:?}"
    );

    // One substitute at a time: an overlapping period is a conflict, whoever the substitute.
    for (from, to, sub) in [(48, 96, cm3), (0, 25, cm2), (0, 200, cm2), (30, 40, cm2)] {
        let r = app
            .post(
                &t1,
                DELEGATIONS,
                json!({"substitute_id": sub, "starts_at": now + h(from), "ends_at": now + h(to)}),
            )
            .await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (409, Some("delegation_overlap")),
            "{from}..{to}: {r:?}"
        );
    }
    // Back to back is fine; so is another member's delegation to the same substitute.
    let r = app
        .post(
            &t1,
            DELEGATIONS,
            json!({"substitute_id": cm2, "starts_at": now + h(72), "ends_at": now + h(80)}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let second = r.body["id"].as_i64().unwrap();
    delegate(&app, "cm2", "cm3", 24, 72).await;

    // Who may name a substitute: a member for themselves, a change manager or admin for any.
    for u in ["customer.acme", "requester", "po"] {
        let t = app.token(u).await;
        let r = app
            .post(
                &t,
                DELEGATIONS,
                json!({"substitute_id": cm3, "ends_at": now + h(5)}),
            )
            .await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (403, Some("forbidden")),
            "{u}"
        );
    }
    let r = app
        .post(
            &t1,
            DELEGATIONS,
            json!({"member_id": cm2, "substitute_id": cm3, "ends_at": now + h(5)}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("forbidden"))
    );
    let r = app
        .post(
            &app.token("admin").await,
            DELEGATIONS,
            json!({"member_id": app.user_id("cme1").await, "substitute_id": cm3, "ends_at": now + h(5)}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let cme = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["status"], "active");
    // Nothing half-written by the refusals.
    assert_eq!(app.count("SELECT count(*) FROM delegations").await, 4);

    // Reading them.
    let list = |q: &'static str| {
        let app = &app;
        let gm = gm.clone();
        async move {
            let r = app.get(&gm, &format!("{DELEGATIONS}{q}")).await;
            assert_eq!(r.status, 200, "{q}: {r:?}");
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_i64().unwrap())
                .collect::<Vec<i64>>()
        }
    };
    let all = list("").await;
    assert_eq!(all.len(), 4);
    let mine = app
        .get(&gm, &format!("{DELEGATIONS}?member_id={cm1}"))
        .await
        .body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(mine, [first["id"].as_i64().unwrap(), second]);
    let to_cm3 = app
        .get(&gm, &format!("{DELEGATIONS}?substitute_id={cm3}"))
        .await;
    assert_eq!(to_cm3.body["items"].as_array().unwrap().len(), 3);
    assert_eq!(list("?active_at=2026-11-23T12:00:00Z").await, [cme]);
    let in_two_days = (now + h(48)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let r = app
        .get(
            &gm,
            &format!("{DELEGATIONS}?active_at={in_two_days}&member_id={cm1}"),
        )
        .await;
    assert_eq!(r.body["items"][0]["id"], first["id"]);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let r = app.get(&gm, &format!("{DELEGATIONS}?limit=3")).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3);
    let next = r.body["next_cursor"].as_i64().expect("a next page");
    let r = app
        .get(&gm, &format!("{DELEGATIONS}?limit=3&cursor={next}"))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert!(r.body["next_cursor"].is_null());
    let r = app.get(&gm, &format!("{DELEGATIONS}?active_at=soon")).await;
    assert_eq!((r.status, r.fields()), (422, vec!["active_at".to_string()]));
    let r = app.get(&gm, &format!("{DELEGATIONS}?member_id=x")).await;
    assert_eq!((r.status, r.fields()), (422, vec!["member_id".to_string()]));
    let r = app
        .get(&gm, &format!("{DELEGATIONS}/{}", first["id"]))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["status"], "scheduled");
    assert_eq!(r.body["substitute_id"].as_i64(), Some(cm3));
    assert_eq!(
        app.get(&gm, &format!("{DELEGATIONS}/99999")).await.status,
        404
    );
    let customer = app.token("customer.acme").await;
    assert_eq!(app.get(&customer, DELEGATIONS).await.status, 403);
    assert_eq!(
        app.get(&customer, &format!("{DELEGATIONS}/{cme}"))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn an_idempotency_key_returns_the_first_delegation() {
    let app = TestApp::spawn().await;
    let t1 = app.token("cm1").await;
    let body = json!({"substitute_id": app.user_id("cm3").await, "ends_at": app.now() + Duration::hours(5)});
    let send = |b: Value| {
        let app = &app;
        let t1 = t1.clone();
        async move {
            let rb = app
                .client
                .post(app.url(DELEGATIONS))
                .bearer_auth(t1)
                .header("Idempotency-Key", "ferias-dez")
                .json(&b);
            let res = rb.send().await.unwrap();
            let status = res.status().as_u16();
            let replayed = res.headers().contains_key("idempotent-replayed");
            let body: Value = res.json().await.unwrap();
            (status, replayed, body)
        }
    };
    let (s1, replayed1, b1) = send(body.clone()).await;
    assert_eq!((s1, replayed1), (201, false), "{b1}");
    let (s2, replayed2, b2) = send(body.clone()).await;
    assert_eq!((s2, replayed2), (201, true), "{b2}");
    assert_eq!(b1["id"], b2["id"]);
    let mut other = body;
    other["reason"] = json!("outra");
    let (s3, _, b3) = send(other).await;
    assert_eq!(
        (s3, b3["code"].as_str()),
        (409, Some("idempotency_key_reused"))
    );
    assert_eq!(app.count("SELECT count(*) FROM delegations").await, 1);
}

#[tokio::test]
async fn concurrent_overlapping_delegations_give_one_winner() {
    let app = TestApp::spawn().await;
    let t1 = app.token("cm1").await;
    let now = app.now();
    let (cm2, cm3) = (app.user_id("cm2").await, app.user_id("cm3").await);
    for round in 0..5 {
        let from = now + Duration::days(10 * round);
        let a = app.post(
            &t1,
            DELEGATIONS,
            json!({"substitute_id": cm2, "starts_at": from, "ends_at": from + Duration::days(2)}),
        );
        let b = app.post(
            &t1,
            DELEGATIONS,
            json!({"substitute_id": cm3, "starts_at": from + Duration::days(1), "ends_at": from + Duration::days(3)}),
        );
        let (a, b) = tokio::join!(a, b);
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
        let loser = if a.status == 409 { &a } else { &b };
        assert_eq!(loser.body["code"], "delegation_overlap");
    }
    assert_eq!(app.count("SELECT count(*) FROM delegations").await, 5);
}

#[tokio::test]
async fn the_substitute_receives_the_members_vote_email() {
    let app = TestApp::spawn().await;
    // An RDM already awaiting the committee when the delegation is made...
    let before = app.rdm_awaiting_committee("Antes da delegação", 1).await;
    app.run_jobs().await;
    assert_eq!(app.mails_to("cm1").await.len(), 1);
    assert!(app.mails_to("cm3").await.is_empty());
    delegate(&app, "cm1", "cm3", 0, 24 * 7).await;
    // ...and one sent to the committee while it is in force.
    let during = app.rdm_awaiting_committee("Durante a delegação", 2).await;
    app.run_jobs().await;
    let mails = app.mails_to("cm3").await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    for id in [before, during] {
        let number = format!("RDM-{id:06}");
        let m = mails
            .iter()
            .find(|m| m.subject.contains(&number))
            .unwrap_or_else(|| panic!("no mail for {number}: {mails:?}"));
        assert!(m.text.contains("em nome de Membro do CM 1"), "{}", m.text);
        gmud_tests::vote_links(m);
    }
    // cm1 was not sent the first RDM twice; cm2, who named nobody, has no substitute mail.
    assert_eq!(app.mails_to("cm1").await.len(), 2);
    assert!(app
        .mails_to("cm2")
        .await
        .iter()
        .all(|m| !m.text.contains("em nome de")));

    // A substitute named for later is not mailed until then.
    let before_cm2 = app.mails_to("cme1").await.len();
    delegate(&app, "cm2", "cme1", 24, 48).await;
    app.run_jobs().await;
    assert_eq!(app.mails_to("cme1").await.len(), before_cm2);
}

#[tokio::test]
async fn a_delegation_starting_later_hands_over_the_links_when_it_starts() {
    let app = TestApp::spawn().await;
    let rdm = app.rdm_awaiting_committee("Trocar balanceador", 1).await;
    app.run_jobs().await;
    // cm1 will be away from tomorrow; cm2 names cm3 too, but revokes it before it starts.
    let later = delegate(&app, "cm1", "cm3", 24, 24 * 7).await;
    let revoked = delegate(&app, "cm2", "cme1", 24, 24 * 7).await;
    let cm2 = app.token("cm2").await;
    let r = app
        .post_empty(&cm2, &format!("{DELEGATIONS}/{}/revoke", revoked["id"]))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    app.run_jobs().await;
    assert!(app.mails_to("cm3").await.is_empty(), "not yet in force");
    app.set_now(
        chrono::DateTime::parse_from_rfc3339(later["starts_at"].as_str().unwrap())
            .unwrap()
            .into(),
    );
    app.run_jobs().await;
    let mails = app.mails_to("cm3").await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].subject.contains(&format!("RDM-{rdm:06}")));
    let (approve, _) = gmud_tests::vote_links(&mails[0]);
    assert!(approve.contains("/vote/"));
    // The revoked one hands nothing over; running again sends nothing twice.
    assert!(app.mails_to("cme1").await.is_empty());
    app.run_jobs().await;
    assert_eq!(app.mails_to("cm3").await.len(), 1);
}
