//! Editing an RDM's content: until approval, by its editors, with optimistic versions. An
//! edit under vote asks the committee again (a new revision, fresh links).
use super::create::{check_references, priority_of, replace_links, template_owned};
use super::store::{self, check_if_match, RdmView};
use crate::changes::votes;
use crate::db::enums::StoredOption;
use crate::db::schema::rdms as t;
use crate::identity::principal::{either, AuthUser};
use crate::notify::Notifier;
use crate::platform::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::rdm::RdmState;
use domain::rdm::{check_edit, EditRefusal, Level};
use domain::roles::Role;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

/// Fields to change; those left out stay as they are.
#[derive(Debug, Default, Deserialize, Validate, ToSchema, AsChangeset)]
#[serde(deny_unknown_fields)]
#[diesel(table_name = crate::db::schema::rdms)]
pub struct RdmPatch {
    #[validate(length(min = 3, max = 200))]
    #[schema(min_length = 3, max_length = 200)]
    pub title: Option<String>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub justification: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub category: Option<String>,
    #[diesel(skip_update)]
    pub impact: Option<Level>,
    #[diesel(skip_update)]
    pub urgency: Option<Level>,
    #[diesel(skip_update)]
    pub risk: Option<Level>,
    /// The technical opinion (*parecer técnico*), required before committee.
    #[validate(
        length(min = 1, max = 20000),
        custom(function = "crate::platform::input::not_blank")
    )]
    #[schema(min_length = 1, max_length = 20000)]
    pub technical_opinion: Option<String>,
    #[validate(
        length(min = 1, max = 20000),
        custom(function = "crate::platform::input::not_blank")
    )]
    #[schema(min_length = 1, max_length = 20000)]
    pub implementation_plan: Option<String>,
    #[validate(range(min = 1, max = 10080))]
    #[schema(minimum = 1, maximum = 10080)]
    pub estimated_duration_minutes: Option<i32>,
    #[validate(
        length(min = 1, max = 20000),
        custom(function = "crate::platform::input::not_blank")
    )]
    #[schema(min_length = 1, max_length = 20000)]
    pub rollback_plan: Option<String>,
    #[validate(range(min = 0, max = 10080))]
    #[schema(minimum = 0, maximum = 10080)]
    pub estimated_rollback_minutes: Option<i32>,
    #[validate(
        length(min = 1, max = 20000),
        custom(function = "crate::platform::input::not_blank")
    )]
    #[schema(min_length = 1, max_length = 20000)]
    pub homologation_evidence: Option<String>,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub communication_plan: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub requester_group: Option<String>,
    #[diesel(skip_update)]
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub configuration_item_ids: Option<Vec<i64>>,
    #[diesel(skip_update)]
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub involved_member_ids: Option<Vec<i64>>,
}

impl RdmPatch {
    fn changed_fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        macro_rules! note { ($($name:ident),*) => { $( if self.$name.is_some() { f.push(stringify!($name)); } )* } }
        note!(
            title,
            description,
            justification,
            category,
            impact,
            urgency,
            risk,
            technical_opinion,
            implementation_plan,
            estimated_duration_minutes,
            rollback_plan,
            estimated_rollback_minutes,
            homologation_evidence,
            communication_plan,
            requester_group,
            configuration_item_ids,
            involved_member_ids
        );
        f
    }
}

/// Every role that may edit some RDM: the editors, and whoever may file one (as its requester).
pub fn may_edit_some_rdm() -> Vec<Role> {
    either(domain::rdm::EDITOR_ROLES, super::store::CREATORS)
}

/// Edits an RDM: only until approval (what was approved is what gets executed), with the
/// ETag of the version edited. Voters get fresh links for the new revision.
pub async fn update(
    conn: &mut AsyncPgConnection,
    n: &Notifier,
    user: &AuthUser,
    id: i64,
    patch: &RdmPatch,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<RdmView> {
    user.require(&may_edit_some_rdm())?;
    let view = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let rdm = store::lock(conn, id).await?;
            check_if_match(if_match, rdm.version, true)?;
            let changed = patch.changed_fields();
            if changed.is_empty() {
                return Err(ApiError::validation("body", "required", "send at least one field to change"));
            }
            let (rdm_type, st) = (rdm.rdm_type, rdm.state);
            check_edit(rdm_type, st, &store::actor(user, &rdm), &changed).map_err(edit_refusal)?;
            check_references(conn, patch.configuration_item_ids.as_deref(), patch.involved_member_ids.as_deref()).await?;
            let impact = patch.impact.or(rdm.impact);
            let urgency = patch.urgency.or(rdm.urgency);
            let priority = priority_of(conn, impact, urgency).await?;
            diesel::update(t::table.find(id))
                .set((
                    patch,
                    t::impact.eq(impact.db()),
                    t::urgency.eq(urgency.db()),
                    t::priority.eq(priority.db()),
                    t::risk.eq(patch.risk.or(rdm.risk).db()),
                    t::version.eq(rdm.version + 1),
                    t::revision.eq(rdm.revision + 1),
                    t::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            replace_links(conn, id, patch.configuration_item_ids.as_deref(), patch.involved_member_ids.as_deref()).await?;
            // Other items may mean other customers: the notice no longer covers them all.
            let notice_cleared = patch.configuration_item_ids.is_some() && rdm.customers_notified_at.is_some();
            if notice_cleared {
                diesel::update(t::table.find(id))
                    .set((t::customers_notified_at.eq(None::<chrono::DateTime<chrono::Utc>>), t::customers_notification.eq(None::<String>)))
                    .execute(conn)
                    .await?;
            }
            // Voters get fresh links for the new revision, from the edit's event.
            store::record(conn, n, id, "edit", Some(rdm.state), rdm.state, Some(user.id), None, serde_json::json!({ "fields": changed, "version": rdm.version + 1, "revision": rdm.revision + 1, "customer_notice_cleared": notice_cleared }), now).await?;
            let rdm = store::find(conn, id).await?;
            if rdm.state == RdmState::AwaitingCommittee && rdm.meeting_id.is_none() {
                votes::schedule_cme_reminder(conn, &rdm, now).await?;
            }
            store::view(conn, rdm, user, now).await
        })
        .await?;
    Ok(view)
}

fn edit_refusal(e: EditRefusal) -> ApiError {
    match e {
        EditRefusal::NotEditable(st) => ApiError::conflict("not_editable", format!("an RDM in state {st} can no longer be edited: what was approved is what runs")),
        EditRefusal::NotAnEditor => ApiError::Forbidden("only the requester or change_manager, change_agent, support_analyst, test_analyst may edit an RDM".into()),
        EditRefusal::TemplateOwned(fields) => template_owned(
            fields.contains(&"implementation_plan"),
            fields.contains(&"estimated_duration_minutes"),
            fields.contains(&"rollback_plan"),
            fields.contains(&"estimated_rollback_minutes"),
        )
        .unwrap_err(),
        EditRefusal::VotersFrozen => ApiError::conflict("committee_voting", "the involved members cannot change while the committee votes"),
        EditRefusal::ClassificationByChangeManager(fields) => {
            ApiError::Forbidden(format!("once submitted, only the change manager classifies: {}", fields.join(", ")))
        }
    }
}
