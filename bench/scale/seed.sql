-- 100,000 RDMs and 2,000,000 jobs on top of `gmud seed --demo`, set-based (a minute or two).
-- Words: `servidor` is in a third of the RDMs (a common word), `legado` in one in 50 (just
-- too few to fill a page from the newest 2,040), `kerberos` in 3 of the oldest (a rare
-- word), `quasar` in none (an absent word). Run by bench/scale.sh.
\set ON_ERROR_STOP on
SET synchronous_commit = off;

-- 1,000 more users (requesters and members), 2,000 configuration items, 60 weekly windows.
INSERT INTO users (username, display_name, email, password_hash, roles, team, created_at)
SELECT 'scale' || g, 'Scale ' || g, 'scale' || g || '@example.com', 'x',
       ARRAY['requester', 'committee_member']::user_role[], 'cloud', now()
FROM generate_series(1, 1000) g;

INSERT INTO configuration_items (organization_id, topology_id, environment, service_id, name)
SELECT (SELECT min(id) FROM organizations), NULL, 'production', (SELECT min(id) FROM services),
       'scale-ci-' || g
FROM generate_series(1, 2000) g;

INSERT INTO maintenance_windows (original_date, starts_at, ends_at, policy_version)
SELECT d, d + time '03:00' , d + time '09:00', 1
FROM (SELECT date '2024-01-04' + 7 * g AS d FROM generate_series(0, 59) g) w
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE words AS
SELECT ARRAY['banco', 'dados', 'rede', 'firewall', 'atualização', 'aplicação', 'versão',
  'migração', 'backup', 'certificado', 'balanceador', 'cluster', 'memória', 'disco',
  'correção', 'segurança', 'patch', 'sistema', 'operacional', 'usuário', 'acesso', 'porta',
  'serviço', 'janela', 'manutenção', 'reinício', 'configuração', 'ambiente', 'produção',
  'homologação', 'rollback', 'monitoramento', 'alerta', 'latência', 'desempenho',
  'integração', 'fila', 'mensagem', 'contêiner', 'kubernetes', 'deploy', 'pipeline',
  'licença', 'fornecedor', 'contrato', 'link', 'roteador', 'switch', 'dns', 'proxy'] AS w;

-- RDMs: ids ascending with time; every fifth has no window, the rest spread over 40 windows
-- (2,000 each); `kerberos` only in ids 10, 20, 30.
INSERT INTO rdms (rdm_type, state, title, description, justification, priority, risk,
                  requester_id, window_id, created_at, updated_at)
SELECT 'normal',
       (ARRAY['draft', 'submitted', 'approved', 'scheduled', 'closed', 'cancelled']::rdm_state[])[1 + g % 6],
       initcap(w[1 + g % 50]) || ' ' || w[1 + (g / 7) % 50] || ' ' || w[1 + (g / 49) % 50]
         || CASE WHEN g % 3 = 0 THEN ' servidor' ELSE '' END
         || CASE WHEN g % 50 = 7 THEN ' legado' ELSE '' END
         || CASE WHEN g IN (10, 20, 30) THEN ' kerberos' ELSE '' END,
       'Alterar ' || w[1 + (g * 7) % 50] || ' e ' || w[1 + (g * 11) % 50] || ' do ' || w[1 + (g * 13) % 50]
         || ' conforme o plano; ' || w[1 + (g * 17) % 50] || ' ' || w[1 + (g * 19) % 50],
       'Necessário para ' || w[1 + (g * 23) % 50] || ' e ' || w[1 + (g * 29) % 50],
       'medium', 'low',
       (SELECT min(id) FROM users) + g % 1000,
       CASE WHEN g % 5 = 0 THEN NULL ELSE (SELECT min(id) FROM maintenance_windows) + g % 40 END,
       timestamptz '2024-01-01' + g * interval '10 minutes',
       timestamptz '2024-01-01' + g * interval '10 minutes'
FROM generate_series(1, 100000) g, words;

-- Two items and two involved members per RDM.
INSERT INTO rdm_items (rdm_id, item_id)
SELECT r.id, c.first + (r.id * k) % 2000
FROM rdms r, (SELECT min(id) AS first FROM configuration_items WHERE name LIKE 'scale-ci-%') c,
     (VALUES (1), (7)) v(k)
ON CONFLICT DO NOTHING;
INSERT INTO rdm_involved_members (rdm_id, user_id)
SELECT r.id, u.first + (r.id * k) % 1000
FROM rdms r, (SELECT min(id) AS first FROM users WHERE username LIKE 'scale%') u,
     (VALUES (3), (17)) v(k)
ON CONFLICT DO NOTHING;

-- Jobs: 1,900,000 done (mostly mail, 50,000 holiday notices among them), then, newest, a
-- mail backlog of 50,000 pending deliveries (an SMTP outage), 2,000 pending meeting timers,
-- 20 pending holiday notices, and 20,000 dead mails.
INSERT INTO jobs (kind, lane, payload, status, run_at, attempts, max_attempts, created_at, finished_at)
SELECT CASE WHEN g % 38 = 0 THEN 'holiday_notice' WHEN g % 10 = 1 THEN 'meeting_end' ELSE 'mail' END,
       CASE WHEN g % 38 = 0 OR g % 10 = 1 THEN 'timers' ELSE 'deliveries' END::job_lane,
       '{"to": "someone@example.com", "subject": "Aviso"}'::jsonb, 'done',
       now() - interval '60 days' + g * interval '2 seconds', 1, 8,
       now() - interval '60 days' + g * interval '2 seconds',
       now() - interval '60 days' + g * interval '2 seconds'
FROM generate_series(1, 1900000) g;
INSERT INTO jobs (kind, lane, payload, status, run_at, attempts, max_attempts, created_at)
SELECT 'mail', 'deliveries', '{"to": "someone@example.com", "subject": "Aviso"}'::jsonb, 'pending',
       now() + interval '1 hour' + g * interval '1 second', 3, 30, now()
FROM generate_series(1, 50000) g;
INSERT INTO jobs (kind, lane, payload, status, run_at, attempts, max_attempts, created_at)
SELECT CASE WHEN g % 100 = 0 THEN 'holiday_notice' ELSE 'meeting_start' END, 'timers', '{}'::jsonb,
       'pending', now() + interval '1 day' + g * interval '1 minute', 0, 8, now()
FROM generate_series(1, 2000) g;
INSERT INTO jobs (kind, lane, payload, status, run_at, attempts, max_attempts, last_error, created_at, finished_at)
SELECT 'mail', 'deliveries', '{"to": "someone@example.com", "subject": "Aviso"}'::jsonb, 'dead',
       now() - interval '1 day', 30, 30, 'connection refused', now() - interval '1 day', now()
FROM generate_series(1, 20000) g;

VACUUM ANALYZE;
