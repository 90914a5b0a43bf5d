-- pgbench: the least SQL that stores what POST /api/v1/rdms stores, in one statement: the
-- RDM (priority from the matrix), its two configuration items and the first line of its
-- history, returning the row.
WITH r AS (
  INSERT INTO rdms (rdm_type, state, title, description, justification, impact, urgency, priority, risk,
    implementation_plan, estimated_duration_minutes, rollback_plan, estimated_rollback_minutes,
    requester_id, created_at, updated_at)
  VALUES ('normal', 'draft', 'Carga: atualizar pacote', 'benchmark', '', 'medium', 'high',
    (SELECT priority FROM priority_matrix WHERE impact = 'medium' AND urgency = 'high'), 'low',
    'aplicar', 60, 'reverter', 30, 5, now(), now())
  RETURNING *),
i AS (INSERT INTO rdm_items (rdm_id, item_id) SELECT r.id, x FROM r, unnest(ARRAY[1, 2]::bigint[]) x),
e AS (INSERT INTO events (entity, entity_id, action, to_state, actor_id, at)
      SELECT 'rdm', r.id, 'create', 'draft', 5, now() FROM r)
SELECT * FROM r;
