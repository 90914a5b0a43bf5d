DROP TABLE IF EXISTS idempotency_keys, rdm_transitions, rdm_votes, rdm_involved_members, rdm_items, rdms,
  standard_templates, priority_matrix, window_flexes, maintenance_windows, meeting_reschedules, committee_meetings,
  committee_members, committees, calendar_policies, holidays, calendars, configuration_items, services,
  topologies, organizations, users CASCADE;
DROP FUNCTION IF EXISTS forbid_history_rewrite();
