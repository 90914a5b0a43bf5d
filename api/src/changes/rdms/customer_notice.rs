//! Recording that every affected customer was told of the unavailability (SPEC §3.3): an
//! emergency change cannot start executing before it is recorded.
use super::store::{self, RdmView};
use crate::db::schema::rdms as t;
use crate::identity::principal::{either, AuthUser};
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::roles::Role;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerNotification {
    /// How and whom: channels, organisations, message.
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub note: String,
    /// When they were notified (default: now; not in the future).
    pub notified_at: Option<DateTime<Utc>>,
}

/// Who may record the customer notification of any RDM (its requester may for their own).
const RECORDERS: &[Role] = &[Role::ChangeManager, Role::ChangeAgent];

/// Every role that may record a notification on some RDM: the change manager, the change
/// agent, and whoever may file one (as its requester).
pub fn may_record_some() -> Vec<Role> {
    either(RECORDERS, super::store::CREATORS)
}

pub async fn record(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user: &AuthUser,
    id: i64,
    body: &CustomerNotification,
    now: DateTime<Utc>,
) -> ApiResult<RdmView> {
    user.require(&may_record_some())?;
    let at = body.notified_at.unwrap_or(now);
    if at > now {
        return Err(ApiError::validation(
            "notified_at",
            "range",
            "cannot be in the future",
        ));
    }
    let view = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let rdm = store::lock(conn, id).await?;
            if !(rdm.requester_id == user.id || user.roles.any(RECORDERS)) {
                return Err(ApiError::Forbidden(
                    "only the requester, change_manager or change_agent may record this".into(),
                ));
            }
            if at < rdm.created_at {
                return Err(ApiError::validation(
                    "notified_at",
                    "range",
                    "cannot be before the RDM was filed",
                ));
            }
            let st = rdm.state;
            if st.is_terminal() {
                return Err(ApiError::conflict(
                    "not_editable",
                    format!("the RDM is {st}"),
                ));
            }
            diesel::update(t::table.find(id))
                .set((
                    t::customers_notified_at.eq(at),
                    t::customers_notification.eq(&body.note),
                ))
                .execute(conn)
                .await?;
            store::bump(conn, &rdm, now).await?;
            store::record(
                conn,
                n,
                id,
                "notify_customers",
                Some(rdm.state),
                rdm.state,
                Some(user.id),
                None,
                serde_json::json!({ "notified_at": at, "note": body.note }),
                now,
            )
            .await?;
            let rdm = store::find(conn, id).await?;
            store::view(conn, rdm, user, now).await
        })
        .await?;
    Ok(view)
}
