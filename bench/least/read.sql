-- pgbench: the least SQL that returns what GET /api/v1/rdms/{id} returns, in one statement:
-- the RDM with its configuration items, involved members and window.
\set id random(1, :max_id)
SELECT r.*,
  ARRAY(SELECT item_id FROM rdm_items WHERE rdm_id = r.id ORDER BY item_id) AS item_ids,
  ARRAY(SELECT user_id FROM rdm_involved_members WHERE rdm_id = r.id ORDER BY user_id) AS involved_ids,
  w.starts_at, w.ends_at
FROM rdms r LEFT JOIN maintenance_windows w ON w.id = r.window_id
WHERE r.id = :id;
