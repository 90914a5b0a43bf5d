// Hand-kept mirror of migrations/ (diesel print-schema needs libpq). A test compares it with a
// migrated database and names every difference (`tests/integration/schema_drift.rs`).
// `rdms.search`, `tickets.search` and `kb_articles.search` (generated tsvectors) are queried through raw SQL
// fragments only.

/// The PostgreSQL enum types; `super::enums` maps each to its Rust enum.
pub mod sql_types {
    macro_rules! pg_enum_types {
        ($($name:ident => $pg:literal),* $(,)?) => {$(
            #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType, Debug, Clone, Copy)]
            #[diesel(postgres_type(name = $pg))]
            pub struct $name;
        )*};
    }
    pg_enum_types!(
        RdmType => "rdm_type",
        RdmState => "rdm_state",
        Level => "level",
        Priority => "priority",
        CommitteeKind => "committee_kind",
        ApprovalPolicy => "approval_policy",
        MeetingStatus => "meeting_status",
        FlexStatus => "flex_status",
        VoteDecision => "vote_decision",
        VoteChannel => "vote_channel",
        JobStatus => "job_status",
        JobLane => "job_lane",
        UserRole => "user_role",
        Team => "team",
        Environment => "environment",
        EntityKind => "entity_kind",
        TicketState => "ticket_state",
        TicketKind => "ticket_kind",
        ProblemState => "problem_state",
        KbKind => "kb_kind",
        KbState => "kb_state",
    );
}
diesel::table! {
    organizations (id) {
        id -> Int8,
        code -> Text,
        name -> Text,
        timezone -> Text,
        created_at -> Timestamptz,
        calendar_id -> Nullable<Int8>,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        username -> Text,
        display_name -> Text,
        email -> Text,
        password_hash -> Text,
        roles -> Array<crate::db::schema::sql_types::UserRole>,
        team -> Nullable<crate::db::schema::sql_types::Team>,
        organization_id -> Nullable<Int8>,
        active -> Bool,
        created_at -> Timestamptz,
        token_version -> Int4,
    }
}

diesel::table! {
    topologies (id) {
        id -> Int8,
        organization_id -> Int8,
        name -> Text,
        description -> Text,
    }
}

diesel::table! {
    services (id) {
        id -> Int8,
        code -> Text,
        name -> Text,
        description -> Text,
    }
}

diesel::table! {
    configuration_items (id) {
        id -> Int8,
        organization_id -> Int8,
        topology_id -> Nullable<Int8>,
        environment -> crate::db::schema::sql_types::Environment,
        service_id -> Int8,
        name -> Text,
    }
}

diesel::table! {
    calendars (id) {
        id -> Int8,
        code -> Text,
        name -> Text,
        timezone -> Text,
        working_days -> Array<Text>,
        business_hours -> Jsonb,
    }
}

diesel::table! {
    holidays (id) {
        id -> Int8,
        calendar_id -> Int8,
        date -> Date,
        name -> Text,
        open_hours -> Jsonb,
    }
}

diesel::table! {
    calendar_policies (version) {
        version -> Int4,
        timezone -> Text,
        calendar_id -> Int8,
        meeting_weekday -> Text,
        meeting_start -> Text,
        meeting_duration_minutes -> Int4,
        cutoff_time -> Text,
        window_weekday -> Text,
        window_start -> Text,
        window_duration_minutes -> Int4,
        note -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        holiday_notice_days -> Int4,
        cme_vote_hours -> Int4,
    }
}

diesel::table! {
    committees (id) {
        id -> Int8,
        code -> Text,
        name -> Text,
        kind -> crate::db::schema::sql_types::CommitteeKind,
        approval_policy -> crate::db::schema::sql_types::ApprovalPolicy,
        approval_n -> Nullable<Int4>,
    }
}

diesel::table! {
    committee_members (committee_id, user_id) {
        committee_id -> Int8,
        user_id -> Int8,
    }
}

diesel::table! {
    committee_meetings (id) {
        id -> Int8,
        committee_id -> Int8,
        original_date -> Date,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        cutoff_at -> Timestamptz,
        on_holiday -> Bool,
        rescheduled -> Bool,
        status -> crate::db::schema::sql_types::MeetingStatus,
        policy_version -> Int4,
        closed_by -> Nullable<Int8>,
        closed_at -> Nullable<Timestamptz>,
        close_note -> Nullable<Text>,
        agenda_frozen_at -> Nullable<Timestamptz>,
        holiday_flagged_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    maintenance_windows (id) {
        id -> Int8,
        original_date -> Date,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        flexed -> Bool,
        policy_version -> Int4,
    }
}

diesel::table! {
    window_flexes (id) {
        id -> Int8,
        window_id -> Int8,
        new_starts_at -> Timestamptz,
        new_ends_at -> Timestamptz,
        reason -> Text,
        status -> crate::db::schema::sql_types::FlexStatus,
        requested_by -> Int8,
        requested_at -> Timestamptz,
        decided_by -> Nullable<Int8>,
        decided_at -> Nullable<Timestamptz>,
        decision_reason -> Nullable<Text>,
    }
}

diesel::table! {
    priority_matrix (impact, urgency) {
        impact -> crate::db::schema::sql_types::Level,
        urgency -> crate::db::schema::sql_types::Level,
        priority -> crate::db::schema::sql_types::Priority,
    }
}

diesel::table! {
    standard_templates (id) {
        id -> Int8,
        code -> Text,
        name -> Text,
        description -> Text,
        implementation_plan -> Text,
        estimated_duration_minutes -> Int4,
        rollback_plan -> Text,
        estimated_rollback_minutes -> Int4,
        active -> Bool,
    }
}

diesel::table! {
    rdms (id) {
        id -> Int8,
        rdm_type -> crate::db::schema::sql_types::RdmType,
        state -> crate::db::schema::sql_types::RdmState,
        title -> Text,
        description -> Text,
        justification -> Text,
        category -> Nullable<Text>,
        impact -> Nullable<crate::db::schema::sql_types::Level>,
        urgency -> Nullable<crate::db::schema::sql_types::Level>,
        priority -> Nullable<crate::db::schema::sql_types::Priority>,
        risk -> Nullable<crate::db::schema::sql_types::Level>,
        technical_opinion -> Nullable<Text>,
        implementation_plan -> Nullable<Text>,
        estimated_duration_minutes -> Nullable<Int4>,
        rollback_plan -> Nullable<Text>,
        estimated_rollback_minutes -> Nullable<Int4>,
        homologation_evidence -> Nullable<Text>,
        communication_plan -> Nullable<Text>,
        customers_notified_at -> Nullable<Timestamptz>,
        customers_notification -> Nullable<Text>,
        review -> Nullable<Text>,
        standard_template_id -> Nullable<Int8>,
        requester_id -> Int8,
        requester_group -> Nullable<Text>,
        committee_id -> Nullable<Int8>,
        meeting_id -> Nullable<Int8>,
        window_id -> Nullable<Int8>,
        planned_start -> Nullable<Timestamptz>,
        version -> Int4,
        revision -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    rdm_items (rdm_id, item_id) {
        rdm_id -> Int8,
        item_id -> Int8,
    }
}

diesel::table! {
    rdm_involved_members (rdm_id, user_id) {
        rdm_id -> Int8,
        user_id -> Int8,
    }
}

diesel::table! {
    rdm_votes (id) {
        id -> Int8,
        rdm_id -> Int8,
        committee_id -> Int8,
        voter_id -> Int8,
        decision -> crate::db::schema::sql_types::VoteDecision,
        reason -> Nullable<Text>,
        revision -> Int4,
        meeting_id -> Nullable<Int8>,
        at -> Timestamptz,
        cast_by -> Nullable<Int8>,
        channel -> crate::db::schema::sql_types::VoteChannel,
    }
}

diesel::table! {
    events (id) {
        id -> Int8,
        entity -> crate::db::schema::sql_types::EntityKind,
        entity_id -> Int8,
        action -> Text,
        from_state -> Nullable<Text>,
        to_state -> Nullable<Text>,
        actor_id -> Nullable<Int8>,
        reason -> Nullable<Text>,
        detail -> Jsonb,
        at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Int8,
        key -> Text,
        request_hash -> Text,
        status_code -> Int4,
        response -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    jobs (id) {
        id -> Int8,
        kind -> Text,
        payload -> Jsonb,
        dedup_key -> Nullable<Text>,
        status -> crate::db::schema::sql_types::JobStatus,
        run_at -> Timestamptz,
        attempts -> Int4,
        max_attempts -> Int4,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        lane -> crate::db::schema::sql_types::JobLane,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        value -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    vote_links (id) {
        id -> Int8,
        rdm_id -> Int8,
        committee_id -> Int8,
        voter_id -> Int8,
        recipient_id -> Int8,
        revision -> Int4,
        meeting_id -> Nullable<Int8>,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        used_decision -> Nullable<crate::db::schema::sql_types::VoteDecision>,
    }
}

diesel::table! {
    delegations (id) {
        id -> Int8,
        member_id -> Int8,
        substitute_id -> Int8,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        reason -> Text,
        created_by -> Int8,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_by -> Nullable<Int8>,
    }
}

diesel::table! {
    window_flex_votes (flex_id, voter_id) {
        flex_id -> Int8,
        voter_id -> Int8,
        decision -> crate::db::schema::sql_types::VoteDecision,
        reason -> Nullable<Text>,
        at -> Timestamptz,
    }
}

diesel::joinable!(users -> organizations (organization_id));
diesel::joinable!(topologies -> organizations (organization_id));
diesel::joinable!(configuration_items -> organizations (organization_id));
diesel::joinable!(configuration_items -> services (service_id));
diesel::joinable!(holidays -> calendars (calendar_id));
diesel::joinable!(committee_members -> committees (committee_id));
diesel::joinable!(committee_members -> users (user_id));
diesel::joinable!(committee_meetings -> committees (committee_id));
diesel::joinable!(rdm_items -> rdms (rdm_id));
diesel::joinable!(rdm_items -> configuration_items (item_id));
diesel::joinable!(rdm_votes -> rdms (rdm_id));
diesel::joinable!(window_flexes -> maintenance_windows (window_id));
diesel::joinable!(vote_links -> rdms (rdm_id));
diesel::joinable!(window_flex_votes -> window_flexes (flex_id));

diesel::table! {
    holiday_rules (id) {
        id -> Int8,
        calendar_id -> Int8,
        name -> Text,
        month -> Nullable<Int4>,
        day -> Nullable<Int4>,
        easter_offset -> Nullable<Int4>,
        open_hours -> Jsonb,
        first_year -> Nullable<Int4>,
        last_year -> Nullable<Int4>,
    }
}

diesel::table! {
    calendar_includes (calendar_id, included_id) {
        calendar_id -> Int8,
        included_id -> Int8,
    }
}

diesel::table! {
    queues (id) {
        id -> Int8,
        code -> Text,
        name -> Text,
        team -> crate::db::schema::sql_types::Team,
        is_default -> Bool,
    }
}

diesel::table! {
    support_items (id) {
        id -> Int8,
        code -> Text,
        name -> Text,
        product -> Text,
        round_the_clock -> Bool,
        escalation_policy_id -> Nullable<Int8>,
    }
}

diesel::table! {
    sla_targets (id) {
        id -> Int8,
        item_id -> Int8,
        priority -> crate::db::schema::sql_types::Priority,
        response_minutes -> Int4,
        resolution_minutes -> Int4,
        valid_from -> Timestamptz,
    }
}

diesel::table! {
    team_olas (team, priority, valid_from) {
        team -> crate::db::schema::sql_types::Team,
        priority -> crate::db::schema::sql_types::Priority,
        response_minutes -> Int4,
        resolution_minutes -> Int4,
        valid_from -> Timestamptz,
    }
}

diesel::table! {
    contracts (id) {
        id -> Int8,
        organization_id -> Int8,
        product -> Text,
        calendar_id -> Nullable<Int8>,
        valid_from -> Date,
        valid_until -> Nullable<Date>,
    }
}

diesel::table! {
    routing_rules (id) {
        id -> Int8,
        position -> Int4,
        item_id -> Nullable<Int8>,
        contract_product -> Nullable<Text>,
        organization_id -> Nullable<Int8>,
        queue_id -> Int8,
    }
}

diesel::table! {
    ticket_settings (id) {
        id -> Bool,
        default_calendar_id -> Int8,
        auto_close_business_hours -> Int4,
        reminder_business_hours -> Int4,
        max_contact_attempts -> Int4,
        contact_window_hours -> Int4,
    }
}

diesel::table! {
    tickets (id) {
        id -> Int8,
        organization_id -> Int8,
        kind -> crate::db::schema::sql_types::TicketKind,
        parent_id -> Nullable<Int8>,
        follow_up_of -> Nullable<Int8>,
        item_id -> Int8,
        title -> Text,
        description -> Text,
        priority -> crate::db::schema::sql_types::Priority,
        state -> crate::db::schema::sql_types::TicketState,
        pending_on -> Nullable<Text>,
        pending_reason -> Nullable<Text>,
        queue_id -> Int8,
        team -> crate::db::schema::sql_types::Team,
        assignee_id -> Nullable<Int8>,
        requester_id -> Int8,
        calendar_id -> Int8,
        round_the_clock -> Bool,
        opened_at -> Timestamptz,
        received_at -> Timestamptz,
        sla_pinned_at -> Timestamptz,
        response_target_s -> Int8,
        response_accrued_s -> Int8,
        response_running_since -> Nullable<Timestamptz>,
        response_due_at -> Nullable<Timestamptz>,
        response_breached_at -> Nullable<Timestamptz>,
        response_stopped_at -> Nullable<Timestamptz>,
        resolution_target_s -> Int8,
        resolution_accrued_s -> Int8,
        resolution_running_since -> Nullable<Timestamptz>,
        resolution_due_at -> Nullable<Timestamptz>,
        resolution_breached_at -> Nullable<Timestamptz>,
        resolution_stopped_at -> Nullable<Timestamptz>,
        solution -> Nullable<Text>,
        resolved_at -> Nullable<Timestamptz>,
        resolution_no -> Int4,
        auto_close_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        close_reason -> Nullable<Text>,
        reopen_count -> Int4,
        version -> Int4,
        updated_at -> Timestamptz,
        escalation_policy_id -> Nullable<Int8>,
        escalation_level -> Int4,
    }
}

diesel::table! {
    ticket_comments (id) {
        id -> Int8,
        ticket_id -> Int8,
        organization_id -> Int8,
        author_id -> Int8,
        visibility -> Text,
        body -> Text,
        team -> Nullable<crate::db::schema::sql_types::Team>,
        at -> Timestamptz,
    }
}

diesel::table! {
    ticket_links (id) {
        id -> Int8,
        ticket_id -> Int8,
        organization_id -> Int8,
        resolution_no -> Int4,
        recipient_id -> Int8,
        created_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        used_action -> Nullable<Text>,
    }
}

diesel::table! {
    ticket_contact_attempts (id) {
        id -> Int8,
        ticket_id -> Int8,
        organization_id -> Int8,
        channel -> Text,
        at -> Timestamptz,
        answered -> Bool,
        evidence -> Text,
        recorded_by -> Int8,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    ticket_rdm_links (ticket_id, rdm_id) {
        ticket_id -> Int8,
        rdm_id -> Int8,
        organization_id -> Int8,
        created_by -> Int8,
        created_at -> Timestamptz,
        relation -> Text,
    }
}

diesel::table! {
    ops_daily (day, item_id, organization_id, shard) {
        day -> Date,
        item_id -> Int8,
        organization_id -> Int8,
        shard -> Int4,
        opened -> Int4,
        backlog_delta -> Int4,
        resolved -> Int4,
        resolved_reopened -> Int4,
        closed -> Int4,
        cancelled -> Int4,
        responded -> Int4,
        response_business_s -> Int8,
        response_wall_s -> Int8,
        resolution_business_s -> Int8,
        resolution_wall_s -> Int8,
        response_met -> Int4,
        response_breached -> Int4,
        resolution_met -> Int4,
        resolution_breached -> Int4,
    }
}

diesel::table! {
    ops_daily_escalations (day, item_id, organization_id, level) {
        day -> Date,
        item_id -> Int8,
        organization_id -> Int8,
        level -> Int4,
        escalations -> Int4,
    }
}

diesel::table! {
    escalation_policies (id) {
        id -> Int8,
        code -> Text,
        name -> Text,
        priorities -> Array<crate::db::schema::sql_types::Priority>,
    }
}

diesel::table! {
    escalation_levels (policy_id, level) {
        policy_id -> Int8,
        level -> Int4,
        clock -> Text,
        threshold_percent -> Int4,
        target_kind -> Text,
        target_queue_id -> Nullable<Int8>,
        target_role -> Nullable<crate::db::schema::sql_types::UserRole>,
        target_user_id -> Nullable<Int8>,
        target_team -> Nullable<crate::db::schema::sql_types::Team>,
    }
}

diesel::table! {
    oncall_rotations (id) {
        id -> Int8,
        team -> crate::db::schema::sql_types::Team,
        name -> Text,
        position -> Int4,
        calendar_id -> Int8,
        members -> Array<Int8>,
        anchor -> Timestamptz,
        period_days -> Int4,
        coverage -> Text,
        window_weekday -> Nullable<Text>,
        window_start -> Nullable<Text>,
        window_minutes -> Nullable<Int4>,
    }
}

diesel::table! {
    oncall_overrides (id) {
        id -> Int8,
        team -> crate::db::schema::sql_types::Team,
        user_id -> Int8,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        reason -> Text,
        created_by -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    escalation_policies,
    escalation_levels,
    oncall_rotations,
    oncall_overrides,
    holiday_rules,
    calendar_includes,
    queues,
    support_items,
    sla_targets,
    team_olas,
    contracts,
    routing_rules,
    ticket_settings,
    tickets,
    ticket_comments,
    ticket_links,
    ticket_contact_attempts,
    ticket_rdm_links,
    ops_daily,
    ops_daily_escalations,
    problems,
    problem_incidents,
    postmortems,
    postmortem_notes,
    postmortem_actions,
    kb_articles,
    kb_article_versions,
    kb_article_uses,
    organizations,
    users,
    topologies,
    services,
    configuration_items,
    calendars,
    holidays,
    calendar_policies,
    committees,
    committee_members,
    committee_meetings,
    maintenance_windows,
    window_flexes,
    priority_matrix,
    standard_templates,
    rdms,
    rdm_items,
    rdm_involved_members,
    rdm_votes,
    events,
    job_keys,
    idempotency_keys,
    jobs,
    server_secrets,
    vote_links,
    delegations,
    window_flex_votes,
);

diesel::table! {
    job_keys (key) {
        key -> Text,
        keep_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    problems (id) {
        id -> Int8,
        title -> Text,
        description -> Text,
        state -> crate::db::schema::sql_types::ProblemState,
        item_id -> Nullable<Int8>,
        owner_id -> Int8,
        root_cause -> Nullable<Text>,
        workaround -> Nullable<Text>,
        fix_rdm_id -> Nullable<Int8>,
        close_kind -> Nullable<Text>,
        close_reason -> Nullable<Text>,
        duplicate_of -> Nullable<Int8>,
        workaround_communicated_at -> Nullable<Timestamptz>,
        opened_at -> Timestamptz,
        known_error_at -> Nullable<Timestamptz>,
        resolved_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    problem_incidents (problem_id, ticket_id) {
        problem_id -> Int8,
        ticket_id -> Int8,
        organization_id -> Int8,
        linked_by -> Int8,
        linked_at -> Timestamptz,
    }
}

diesel::table! {
    postmortems (id) {
        id -> Int8,
        problem_id -> Nullable<Int8>,
        ticket_id -> Nullable<Int8>,
        title -> Text,
        summary -> Text,
        impact -> Text,
        causes -> Array<Text>,
        created_by -> Int8,
        created_at -> Timestamptz,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    postmortem_notes (id) {
        id -> Int8,
        postmortem_id -> Int8,
        at -> Timestamptz,
        body -> Text,
        author_id -> Int8,
        written_at -> Timestamptz,
    }
}

diesel::table! {
    postmortem_actions (id) {
        id -> Int8,
        postmortem_id -> Int8,
        title -> Text,
        owner_id -> Int8,
        due_on -> Date,
        state -> Text,
        rdm_id -> Nullable<Int8>,
        ticket_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    kb_articles (id) {
        id -> Int8,
        kind -> crate::db::schema::sql_types::KbKind,
        state -> crate::db::schema::sql_types::KbState,
        title -> Text,
        body -> Text,
        item_id -> Nullable<Int8>,
        problem_id -> Nullable<Int8>,
        ticket_id -> Nullable<Int8>,
        team -> Nullable<crate::db::schema::sql_types::Team>,
        author_id -> Int8,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    kb_article_versions (article_id, version) {
        article_id -> Int8,
        version -> Int4,
        title -> Text,
        body -> Text,
        edited_by -> Int8,
        edited_at -> Timestamptz,
    }
}

diesel::table! {
    kb_article_uses (article_id, ticket_id) {
        article_id -> Int8,
        ticket_id -> Int8,
        organization_id -> Int8,
        used_by -> Int8,
        used_at -> Timestamptz,
        solved -> Bool,
    }
}
