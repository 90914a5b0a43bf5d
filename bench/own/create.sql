-- pgbench: the statements POST /api/v1/rdms runs now (no Idempotency-Key): one to check what
-- the form refers to, one to write the RDM, its items and members and its first event.
SELECT
  ARRAY(SELECT DISTINCT x FROM unnest(ARRAY[1, 2]::bigint[]) x
        WHERE NOT EXISTS (SELECT 1 FROM configuration_items c WHERE c.id = x) ORDER BY x) AS unknown_items,
  ARRAY(SELECT DISTINCT x FROM unnest(ARRAY[]::bigint[]) x
        WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = x AND 'committee_member' = ANY(u.roles)) ORDER BY x) AS unknown_members,
  (SELECT priority FROM priority_matrix WHERE impact = 'medium' AND urgency = 'high') AS priority,
  t.description, t.implementation_plan, t.estimated_duration_minutes, t.rollback_plan, t.estimated_rollback_minutes
FROM (SELECT 1) one LEFT JOIN standard_templates t ON t.id = NULL AND t.active;
WITH r AS (
  INSERT INTO rdms (rdm_type, state, title, description, justification, category, impact, urgency,
    priority, risk, implementation_plan, estimated_duration_minutes, rollback_plan,
    estimated_rollback_minutes, homologation_evidence, communication_plan, standard_template_id,
    requester_id, requester_group, created_at, updated_at)
  VALUES ('normal', 'draft', 'Carga: atualizar pacote', 'benchmark', '', NULL, 'medium', 'high', 'high', 'low',
    'aplicar', 60, 'reverter', 30, NULL, NULL, NULL, 5, NULL, now(), now()) RETURNING *),
i AS (INSERT INTO rdm_items (rdm_id, item_id) SELECT r.id, x FROM r, unnest(ARRAY[1, 2]::bigint[]) x ON CONFLICT DO NOTHING),
m AS (INSERT INTO rdm_involved_members (rdm_id, user_id) SELECT r.id, x FROM r, unnest(ARRAY[]::bigint[]) x ON CONFLICT DO NOTHING),
e AS (INSERT INTO events (entity, entity_id, action, to_state, actor_id, at)
      SELECT 'rdm', r.id, 'create', r.state::text, r.requester_id, r.created_at FROM r RETURNING id AS event_id)
SELECT r.*, e.event_id FROM r, e;
