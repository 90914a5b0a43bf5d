//! Notifications (SPEC §8), the plumbing: who can be reached, how a rendered message becomes
//! a `mail` job in the caller's transaction (so it exists if and only if its event
//! committed), and the channels that deliver it. It knows no business: which events tell whom
//! what is decided by each context, from its events.
pub mod format;
pub mod mail;

use crate::db::enums::StoredList;
use crate::db::models::User;
use crate::db::schema::users;
use crate::platform::error::ApiResult;
use crate::platform::links::LinkSigner;
use crate::queue::enqueue;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::roles::Role;
use mail::OutgoingMail;

/// A rendered message: subject, plain text and HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What notifications need beyond the database: where links point and how they are signed.
#[derive(Clone, Debug)]
pub struct Notifier {
    pub signer: LinkSigner,
    /// Base URL of this server as people reach it, without a trailing slash.
    pub public_url: String,
}

impl Notifier {
    pub fn vote_url(&self, token: &str) -> String {
        format!("{}/vote/{token}", self.public_url)
    }
    pub fn api_url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.public_url)
    }
}

/// The active users among `ids`, by id.
pub async fn active_users(conn: &mut AsyncPgConnection, ids: &[i64]) -> ApiResult<Vec<User>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .filter(users::active.eq(true))
        .order(users::id)
        .select(User::as_select())
        .load(conn)
        .await?)
}

/// The active users holding `role`, by id.
pub async fn users_with_role(conn: &mut AsyncPgConnection, role: Role) -> ApiResult<Vec<User>> {
    Ok(users::table
        .filter(users::roles.contains(vec![role].db()))
        .filter(users::active.eq(true))
        .order(users::id)
        .select(User::as_select())
        .load(conn)
        .await?)
}

/// Writes the `mail` job for one rendered message to one user. `event` names what happened
/// (and must differ for every occurrence): one message per event and recipient, and its
/// `Message-ID` is derived from both, so a receiver can drop a duplicate.
pub async fn send(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    to: &User,
    event: String,
    r: Rendered,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    send_at(conn, n, to, event, r, now, now).await
}

/// [`send`], delivered from `run_at` on (a notification that waits for business hours).
pub async fn send_at(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    to: &User,
    event: String,
    r: Rendered,
    run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let host = url::Url::parse(&n.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "gmud".into());
    let key = format!("mail:{event}:to:{}", to.id);
    let mail = OutgoingMail {
        to_name: to.display_name.clone(),
        to_email: to.email.clone(),
        subject: r.subject,
        text: r.text,
        html: r.html,
        message_id: format!("<{}@{host}>", key.replace(':', ".")),
        date: Some(run_at),
    };
    enqueue(conn, &mail, run_at, Some(key), now).await
}
