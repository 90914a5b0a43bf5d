-- pgbench: the statements POST /api/v1/rdms ran before the layered api/ (7c47c0c), in one transaction.
BEGIN;
SELECT id FROM configuration_items WHERE id = ANY(ARRAY[1,2]::bigint[]);
SELECT id FROM users WHERE id = ANY(ARRAY[]::bigint[]) AND roles @> ARRAY['committee_member'];
SELECT priority FROM priority_matrix WHERE impact = 'medium' AND urgency = 'high' LIMIT 1;
INSERT INTO rdms (rdm_type, state, title, description, justification, impact, urgency, priority, risk, implementation_plan, estimated_duration_minutes, rollback_plan, estimated_rollback_minutes, requester_id, created_at, updated_at)
  VALUES ('normal', 'draft', 'Carga: atualizar pacote', 'benchmark', '', 'medium', 'high', 'high', 'low', 'aplicar', 60, 'reverter', 30, 5, now(), now()) RETURNING id \gset
DELETE FROM rdm_items WHERE rdm_id = :id;
INSERT INTO rdm_items (rdm_id, item_id) VALUES (:id, 1), (:id, 2) ON CONFLICT DO NOTHING;
DELETE FROM rdm_involved_members WHERE rdm_id = :id;
INSERT INTO rdm_transitions (rdm_id, action, from_state, to_state, actor_id, detail, at) VALUES (:id, 'create', NULL, 'draft', 5, '{}', now());
SELECT * FROM rdms WHERE id = :id;
SELECT item_id FROM rdm_items WHERE rdm_id = :id ORDER BY item_id;
SELECT user_id FROM rdm_involved_members WHERE rdm_id = :id ORDER BY user_id;
SELECT item_id FROM rdm_items WHERE rdm_id = :id ORDER BY item_id;
COMMIT;
