-- pgbench: the statement POST /api/v1/rdms runs now (no Idempotency-Key): it checks what the
-- form refers to and, the checks passed, writes the RDM, its items and members and its first
-- event (api/src/changes/rdms/create.rs, CREATE), with the demo values.
WITH chk AS (
    SELECT
      ARRAY(SELECT DISTINCT x FROM unnest(ARRAY[1, 2]::bigint[]) x
            WHERE NOT EXISTS (SELECT 1 FROM configuration_items c WHERE c.id = x) ORDER BY x) AS unknown_items,
      ARRAY(SELECT DISTINCT x FROM unnest(ARRAY[]::bigint[]) x
            WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = x AND 'committee_member' = ANY(u.roles)) ORDER BY x) AS unknown_members,
      (SELECT priority FROM priority_matrix WHERE impact = 'medium' AND urgency = 'high') AS priority,
      t.id AS template_id, t.description AS t_description, t.implementation_plan AS t_plan,
      t.estimated_duration_minutes AS t_duration, t.rollback_plan AS t_rollback_plan,
      t.estimated_rollback_minutes AS t_rollback
    FROM (SELECT 1) one LEFT JOIN standard_templates t ON t.id = NULL AND t.active),
  r AS (
    INSERT INTO rdms (rdm_type, state, title, description, justification, category, impact, urgency,
      priority, risk, implementation_plan, estimated_duration_minutes, rollback_plan,
      estimated_rollback_minutes, homologation_evidence, communication_plan, standard_template_id,
      requester_id, requester_group, created_at, updated_at)
    SELECT 'normal', 'draft', 'Carga: atualizar pacote',
      CASE WHEN chk.template_id IS NOT NULL AND btrim('benchmark') = '' THEN chk.t_description ELSE 'benchmark' END,
      '', NULL, 'medium', 'high', chk.priority, 'low', COALESCE(chk.t_plan, 'aplicar'), COALESCE(chk.t_duration, 60),
      COALESCE(chk.t_rollback_plan, 'reverter'), COALESCE(chk.t_rollback, 30), NULL, NULL, chk.template_id, 5, NULL, now(), now()
    FROM chk
    WHERE cardinality(chk.unknown_items) = 0 AND cardinality(chk.unknown_members) = 0
      AND (NULL IS NULL OR chk.template_id IS NOT NULL) AND true
    RETURNING *),
  i AS (INSERT INTO rdm_items (rdm_id, item_id) SELECT r.id, x FROM r, unnest(ARRAY[1, 2]::bigint[]) x
        ON CONFLICT DO NOTHING),
  m AS (INSERT INTO rdm_involved_members (rdm_id, user_id) SELECT r.id, x FROM r, unnest(ARRAY[]::bigint[]) x
        ON CONFLICT DO NOTHING),
  e AS (INSERT INTO events (entity, entity_id, action, to_state, actor_id, at)
        SELECT 'rdm', r.id, 'create', r.state::text, r.requester_id, r.created_at FROM r RETURNING id AS event_id)
  SELECT chk.unknown_items, chk.unknown_members, chk.template_id IS NOT NULL AS template_found,
    to_jsonb(r) - 'search' AS rdm, e.event_id
  FROM chk LEFT JOIN r ON true LEFT JOIN e ON true;
