-- Before the tickets are generated (bench/tickets.sh): more organisations, a customer user
-- per organisation and ten analysts per team, the lookup tables the chunks join, and the
-- ticket indexes saved and dropped (rebuilt once at the end: faster than 10 million inserts
-- into ten indexes, the GIN one above all).
-- Variables: none.
INSERT INTO organizations (code, name, calendar_id, created_at)
SELECT 'bench-' || i, 'Organização de bancada ' || i || ' Ltda', CASE WHEN i % 5 = 0 THEN 3 ELSE 2 END, now()
FROM generate_series(3, 50) i
ON CONFLICT (code) DO NOTHING;

INSERT INTO users (username, display_name, email, password_hash, roles, organization_id, created_at)
SELECT 'cliente.' || o.code, 'Cliente ' || o.name, 'ti@' || o.code || '.example', u.password_hash,
  '{customer}', o.id, now()
FROM organizations o, users u
WHERE u.username = 'customer.acme' AND o.code LIKE 'bench-%'
ON CONFLICT (username) DO NOTHING;

INSERT INTO users (username, display_name, email, password_hash, roles, team, created_at)
SELECT 'analista.' || t || '.' || i, 'Analista ' || t || ' ' || i, 'analista.' || t || '.' || i || '@gmud.example',
  u.password_hash, '{support_analyst}', t::team, now()
FROM unnest(enum_range(NULL::team)) t, generate_series(1, 10) i, users u
WHERE u.username = 'rh1'
ON CONFLICT (username) DO NOTHING;

-- Organisation slot (0..99) -> organisation, its requester and calendar: ACME a quarter of
-- the tickets, Globex a tenth, the 48 others the rest.
DROP TABLE IF EXISTS bench_orgs;
CREATE TABLE bench_orgs AS
SELECT s AS slot, o.id AS organization_id, o.calendar_id,
  (SELECT min(u.id) FROM users u WHERE u.organization_id = o.id AND 'customer' = ANY (u.roles)) AS requester_id
FROM generate_series(0, 99) s
JOIN organizations o ON o.id = CASE WHEN s < 25 THEN 1 WHEN s < 35 THEN 2 ELSE 3 + (s - 35) % 48 END;

-- Team and slot (0..9) -> analyst: the team's seeded analysts (rh1, cloud1, cloud2) first,
-- then the bench ones.
DROP TABLE IF EXISTS bench_analysts;
CREATE TABLE bench_analysts AS
SELECT team, slot, user_id FROM (
  SELECT team, row_number() OVER (PARTITION BY team ORDER BY username LIKE 'analista.%', id) - 1 AS slot, id AS user_id
  FROM users WHERE team IS NOT NULL AND 'support_analyst' = ANY (roles)) a
WHERE slot < 10;

-- Item and priority -> targets in seconds, escalation policy.
DROP TABLE IF EXISTS bench_targets;
CREATE TABLE bench_targets AS
SELECT DISTINCT ON (s.item_id, s.priority) s.item_id, s.priority, s.response_minutes * 60 AS response_s,
  s.resolution_minutes * 60 AS resolution_s,
  CASE WHEN s.priority = ANY (p.priorities) THEN p.id END AS policy_id
FROM sla_targets s JOIN support_items i ON i.id = s.item_id
LEFT JOIN escalation_policies p ON p.id = i.escalation_policy_id
ORDER BY s.item_id, s.priority, s.valid_from DESC;

-- The ticket indexes but the primary key, kept to be rebuilt.
CREATE TABLE IF NOT EXISTS bench_ticket_indexes AS
SELECT indexname, indexdef FROM pg_indexes
WHERE tablename = 'tickets' AND indexname <> 'tickets_pkey';
SELECT format('DROP INDEX IF EXISTS %I', indexname) FROM bench_ticket_indexes \gexec
