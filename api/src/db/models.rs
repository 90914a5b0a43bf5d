//! Rows as stored, state and kind columns typed by the domain's enums. Views (what the API
//! returns) live with the operations of each context.
use super::schema::*;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use domain::approval::{PolicyKind, VoteChannel, VoteDecision};
use domain::catalog::Environment;
use domain::rdm::{CommitteeKind, Level, Priority, RdmState, RdmType};
use domain::roles::{Role, Team};
use domain::schedule::{FlexStatus, MeetingStatus};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub team: Option<Team>,
    pub organization_id: Option<i64>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// Tokens issued under another version are refused.
    pub token_version: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = topologies)]
pub struct Topology {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = services)]
pub struct Service {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = configuration_items)]
pub struct ConfigurationItem {
    pub id: i64,
    pub organization_id: i64,
    pub topology_id: Option<i64>,
    pub environment: Environment,
    pub service_id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = calendars)]
pub struct Calendar {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub timezone: String,
    pub working_days: Vec<String>,
    pub business_hours: serde_json::Value,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = holidays)]
pub struct HolidayRow {
    pub id: i64,
    pub calendar_id: i64,
    pub date: NaiveDate,
    pub name: String,
    pub open_hours: serde_json::Value,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_policies)]
pub struct PolicyRow {
    pub version: i32,
    pub timezone: String,
    pub calendar_id: i64,
    pub meeting_weekday: String,
    pub meeting_start: String,
    pub meeting_duration_minutes: i32,
    pub cutoff_time: String,
    pub window_weekday: String,
    pub window_start: String,
    pub window_duration_minutes: i32,
    pub note: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub holiday_notice_days: i32,
    pub cme_vote_hours: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = committees)]
pub struct Committee {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: CommitteeKind,
    pub approval_policy: PolicyKind,
    pub approval_n: Option<i32>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = committee_meetings)]
pub struct Meeting {
    pub id: i64,
    pub committee_id: i64,
    pub original_date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cutoff_at: DateTime<Utc>,
    pub on_holiday: bool,
    pub rescheduled: bool,
    pub status: MeetingStatus,
    pub policy_version: i32,
    pub closed_by: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_note: Option<String>,
    pub agenda_frozen_at: Option<DateTime<Utc>>,
    pub holiday_flagged_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = maintenance_windows)]
pub struct Window {
    pub id: i64,
    pub original_date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub flexed: bool,
    pub policy_version: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = window_flexes)]
pub struct WindowFlex {
    pub id: i64,
    pub window_id: i64,
    pub new_starts_at: DateTime<Utc>,
    pub new_ends_at: DateTime<Utc>,
    pub reason: String,
    pub status: FlexStatus,
    pub requested_by: i64,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = standard_templates)]
pub struct StandardTemplate {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub description: String,
    pub implementation_plan: String,
    pub estimated_duration_minutes: i32,
    pub rollback_plan: String,
    pub estimated_rollback_minutes: i32,
    pub active: bool,
}

#[derive(
    Debug, Clone, Queryable, QueryableByName, Selectable, Identifiable, serde::Deserialize,
)]
#[diesel(table_name = rdms)]
pub struct Rdm {
    pub id: i64,
    pub rdm_type: RdmType,
    pub state: RdmState,
    pub title: String,
    pub description: String,
    pub justification: String,
    pub category: Option<String>,
    pub impact: Option<Level>,
    pub urgency: Option<Level>,
    pub priority: Option<Priority>,
    pub risk: Option<Level>,
    pub technical_opinion: Option<String>,
    pub implementation_plan: Option<String>,
    pub estimated_duration_minutes: Option<i32>,
    pub rollback_plan: Option<String>,
    pub estimated_rollback_minutes: Option<i32>,
    pub homologation_evidence: Option<String>,
    pub communication_plan: Option<String>,
    pub customers_notified_at: Option<DateTime<Utc>>,
    pub customers_notification: Option<String>,
    pub review: Option<String>,
    pub standard_template_id: Option<i64>,
    pub requester_id: i64,
    pub requester_group: Option<String>,
    pub committee_id: Option<i64>,
    pub meeting_id: Option<i64>,
    pub window_id: Option<i64>,
    pub planned_start: Option<DateTime<Utc>>,
    pub version: i32,
    pub revision: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = rdm_votes)]
pub struct Vote {
    pub id: i64,
    pub rdm_id: i64,
    pub committee_id: i64,
    pub voter_id: i64,
    pub decision: VoteDecision,
    pub reason: Option<String>,
    pub revision: i32,
    pub meeting_id: Option<i64>,
    pub at: DateTime<Utc>,
    /// A substitute who voted for `voter_id`; None when the voter voted.
    pub cast_by: Option<i64>,
    pub channel: VoteChannel,
}
