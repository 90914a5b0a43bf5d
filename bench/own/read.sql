-- pgbench: the statement GET /api/v1/rdms/{id} runs now (the same as the least SQL).
\set id random(1, :max_id)
SELECT r.id, r.rdm_type, r.state, r.title, r.description, r.justification, r.category, r.impact,
  r.urgency, r.priority, r.risk, r.technical_opinion, r.implementation_plan,
  r.estimated_duration_minutes, r.rollback_plan, r.estimated_rollback_minutes,
  r.homologation_evidence, r.communication_plan, r.customers_notified_at,
  r.customers_notification, r.review, r.standard_template_id, r.requester_id,
  r.requester_group, r.committee_id, r.meeting_id, r.window_id, r.planned_start, r.version,
  r.revision, r.created_at, r.updated_at,
  ARRAY(SELECT item_id FROM rdm_items WHERE rdm_id = r.id ORDER BY item_id) AS item_ids,
  ARRAY(SELECT user_id FROM rdm_involved_members WHERE rdm_id = r.id ORDER BY user_id) AS involved_ids,
  w.starts_at AS window_starts_at, w.ends_at AS window_ends_at
FROM rdms r LEFT JOIN maintenance_windows w ON w.id = r.window_id WHERE r.id = :id;
