-- pgbench: the statements GET /api/v1/rdms/{id} ran before the layered api/ (7c47c0c).
\set id random(1, :max_id)
SELECT * FROM rdms WHERE id = :id;
SELECT item_id FROM rdm_items WHERE rdm_id = :id ORDER BY item_id;
SELECT user_id FROM rdm_involved_members WHERE rdm_id = :id ORDER BY user_id;
SELECT item_id FROM rdm_items WHERE rdm_id = :id ORDER BY item_id;
