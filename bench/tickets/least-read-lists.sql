-- pgbench: the least SQL that reads what GET /api/v1/tickets/{id} shows, in one statement: the
-- ticket row with its item's and queue's codes (least-read.sql) and the lists the view carries
-- (children, follow-ups, RDM links, contact attempts), each skipped when it cannot exist. Not
-- read: the escalation levels and the settings (an application could cache them).
\set id random(1, :max_id)
SELECT t.id, t.organization_id, t.kind, t.parent_id, t.follow_up_of, t.item_id, t.title, t.description,
  t.priority, t.state, t.pending_on, t.pending_reason, t.queue_id, t.team, t.assignee_id, t.requester_id,
  t.calendar_id, t.round_the_clock, t.opened_at, t.received_at, t.sla_pinned_at,
  t.response_target_s, t.response_accrued_s, t.response_running_since, t.response_due_at,
  t.response_breached_at, t.response_stopped_at, t.resolution_target_s, t.resolution_accrued_s,
  t.resolution_running_since, t.resolution_due_at, t.resolution_breached_at, t.resolution_stopped_at,
  t.solution, t.resolved_at, t.resolution_no, t.auto_close_at, t.closed_at, t.close_reason,
  t.reopen_count, t.version, t.updated_at, t.escalation_policy_id, t.escalation_level,
  i.code AS item_code, i.name AS item_name, q.code AS queue_code, q.team AS queue_team,
  CASE WHEN t.kind = 'incident' THEN (SELECT jsonb_agg(jsonb_build_object('id', c.id, 'kind', c.kind,
    'state', c.state, 'team', c.team, 'title', c.title) ORDER BY c.id) FROM tickets c WHERE c.parent_id = t.id) END AS children,
  CASE WHEN t.state = 'closed' THEN ARRAY(SELECT f.id FROM tickets f WHERE f.follow_up_of = t.id ORDER BY f.id) END AS follow_ups,
  ARRAY(SELECT l.rdm_id FROM ticket_rdm_links l WHERE l.ticket_id = t.id ORDER BY l.rdm_id) AS rdm_ids,
  (SELECT count(*) FROM ticket_contact_attempts a WHERE a.ticket_id = t.id) AS contact_attempts
FROM tickets t JOIN support_items i ON i.id = t.item_id JOIN queues q ON q.id = t.queue_id
WHERE t.id = :id;
