-- One chunk of generated tickets, ids :lo..:hi (bench/tickets.sh runs chunks of 100,000, two
-- at a time). Deterministic: every attribute comes from the id and a hash of it.
-- Variables: lo, hi, total (tickets in all), now (the benchmark's "now", RFC 3339).
--   state: a ticket waits at most 60 business hours resolved, so the resolved ones are recent:
--          the newest fifth of the ids (the band) holds them, every odd id (a tenth of all
--          tickets); due (resolved longest ago) when in the band's older half and
--          (id / 2) % 5 = 0 (a hundredth of all, one in ten ids there); in that half,
--          id % 100 = 22 -> a child (internal, dev queue) of ticket id - 1 (resolved and due),
--          resolved too; the newest 500,000 hold the open tickets (new, in_progress, pending,
--          even ids in the band); a hundredth cancelled; the rest closed. (Until 2026-11-30
--          the resolved tickets were every tenth id over all three years: see bench/README.md.)
--   clocks: targets of the item and priority; elapsed a hash share of 0..110 % of the
--          target, breached past 100 %; running clocks due in the past are breached.
--   text:   Portuguese titles and descriptions from word lists; 'contingência' in about one
--          in a thousand, 'xilogravura' in about one in 100,000, 'ornitorrinco' in about one
--          in a million.
SET session_replication_role = replica;  -- no FK triggers: the rows are consistent by construction
SET synchronous_commit = off;
INSERT INTO tickets (id, organization_id, kind, parent_id, item_id, title, description, priority, state,
  pending_on, pending_reason, queue_id, team, assignee_id, requester_id, calendar_id, round_the_clock,
  opened_at, received_at, sla_pinned_at,
  response_target_s, response_accrued_s, response_running_since, response_due_at, response_breached_at, response_stopped_at,
  resolution_target_s, resolution_accrued_s, resolution_running_since, resolution_due_at, resolution_breached_at, resolution_stopped_at,
  solution, resolved_at, resolution_no, auto_close_at, closed_at, close_reason, reopen_count, version, updated_at,
  escalation_policy_id, escalation_level)
SELECT id, organization_id, kind::ticket_kind, parent_id, item_id, title, description, priority::priority, state::ticket_state,
  CASE WHEN state = 'pending' THEN 'customer' END,
  CASE WHEN state = 'pending' THEN 'Aguardando o envio do XML pelo cliente' END,
  queue_id, x.team::team,
  CASE WHEN state <> 'new' THEN a.user_id END, CASE WHEN child THEN a.user_id ELSE requester_id END,
  calendar_id, item_id = 3,
  opened_at, opened_at, opened_at,
  resp_s, CASE WHEN state = 'new' THEN 0 ELSE resp_el END,
  CASE WHEN state = 'new' THEN opened_at END, opened_at + resp_s * interval '1 s',
  CASE WHEN state = 'new' AND opened_at + resp_s * interval '1 s' < now_ OR state <> 'new' AND resp_el > resp_s
    THEN opened_at + resp_s * interval '1 s' END,
  CASE WHEN state <> 'new' THEN opened_at + resp_el * interval '1 s' END,
  res_s, CASE WHEN state IN ('new', 'in_progress') THEN 0 ELSE res_el END,
  CASE WHEN state IN ('new', 'in_progress') THEN opened_at END,
  CASE WHEN state <> 'pending' THEN opened_at + res_s * interval '1 s' END,
  CASE WHEN state IN ('new', 'in_progress') AND opened_at + res_s * interval '1 s' < now_
         OR state NOT IN ('new', 'in_progress') AND res_el > res_s
    THEN opened_at + res_s * interval '1 s' END,
  CASE WHEN state IN ('resolved', 'closed') THEN resolved_at WHEN state = 'cancelled' THEN closed_at END,
  CASE WHEN state IN ('resolved', 'closed') THEN 'Reprocessado o lote e orientado o cliente sobre o procedimento correto.' END,
  CASE WHEN state IN ('resolved', 'closed') THEN resolved_at END,
  CASE WHEN state IN ('resolved', 'closed') THEN 1 ELSE 0 END,
  CASE WHEN state = 'resolved' AND NOT child OR state = 'closed' AND auto THEN auto_close_at END,
  CASE WHEN state IN ('closed', 'cancelled') THEN closed_at END,
  CASE WHEN state = 'cancelled' THEN 'Aberto em duplicidade'
       WHEN state = 'closed' AND auto THEN 'closed automatically 60 business hours after the resolution'
       WHEN state = 'closed' THEN 'Solução confirmada pelo cliente' END,
  0, 1 + (h >> 56) % 5,
  CASE WHEN state IN ('closed', 'cancelled') THEN closed_at WHEN state = 'resolved' THEN resolved_at ELSE opened_at END,
  policy_id, 0
FROM (
  SELECT g.*,
    -- resolved: auto_close_at after now (not due) or at most now (due); resolved 60 h before.
    CASE WHEN state = 'resolved' AND due THEN least(now_, greatest(opened_at + res_el * interval '1 s' + interval '60 h',
                                                                 now_ - (h % 259200) * interval '1 s'))
         WHEN state = 'resolved' THEN now_ + interval '1 day' + (h % 1123200) * interval '1 s'
         ELSE closed_at END AS auto_close_at,
    CASE WHEN state = 'resolved' AND due THEN greatest(opened_at, least(now_, greatest(opened_at + res_el * interval '1 s' + interval '60 h',
                                                                 now_ - (h % 259200) * interval '1 s')) - interval '60 h')
         WHEN state = 'resolved' THEN greatest(opened_at, now_ + interval '1 day' + (h % 1123200) * interval '1 s' - interval '5 days')
         ELSE greatest(opened_at, closed_at - interval '60 h') END AS resolved_at
  FROM (
    SELECT f.*,
      least(now_ - interval '1 minute', opened_at + res_el * interval '1 s' + interval '3 days') AS closed_at
    FROM (
      SELECT e.*, t.response_s AS resp_s, t.resolution_s AS res_s, t.policy_id,
        ((h >> 8) % 1100) * t.response_s / 1000 AS resp_el,
        ((h >> 20) % 1100) * t.resolution_s / 1000 AS res_el,
        CASE WHEN child THEN 5 WHEN (h >> 32) % 100 < 2 THEN 1 ELSE 1 + e.item_id END AS queue_id,
        CASE WHEN child THEN 'dev' WHEN (h >> 32) % 100 < 2 THEN 'rh' WHEN e.item_id = 1 THEN 'rh' WHEN e.item_id = 2 THEN 'taf_tss' ELSE 'cloud' END AS team,
        o.organization_id, o.calendar_id, o.requester_id
      FROM (
        SELECT d.*,
          CASE WHEN (hb >> 8) % 100 < 60 THEN 1 WHEN (hb >> 8) % 100 < 85 THEN 2 ELSE 3 END AS item_id,
          CASE WHEN (hb >> 16) % 100 < 30 THEN 'low' WHEN (hb >> 16) % 100 < 75 THEN 'medium'
               WHEN (hb >> 16) % 100 < 95 THEN 'high' ELSE 'critical' END AS priority,
          CASE WHEN child THEN 'resolved'
               WHEN id > :total - :total / 5 AND id % 2 = 1 THEN 'resolved'
               WHEN id > :total - 500000 AND id % 100 < 10 THEN 'new'
               WHEN id > :total - 500000 AND id % 100 < 30 THEN 'in_progress'
               WHEN id > :total - 500000 AND id % 100 < 40 THEN 'pending'
               WHEN id % 100 = 95 THEN 'cancelled'
               ELSE 'closed' END AS state,
          child OR id > :total - :total / 5 AND id <= :total - :total / 10 AND id % 2 = 1 AND (id / 2) % 5 = 0 AS due,
          (h >> 44) % 10 < 7 AS auto,
          CASE WHEN child THEN 'internal' ELSE 'incident' END AS kind,
          CASE WHEN child THEN id - 1 END AS parent_id,
          (:'now'::timestamptz - interval '3 years') + (id * (94672800.0 / :total)) * interval '1 s' AS opened_at,
          :'now'::timestamptz AS now_,
          (array['Erro ao', 'Falha ao', 'Lentidão ao', 'Dúvida sobre como', 'Não consigo', 'Problema ao', 'Tempo esgotado ao', 'Rejeição ao'])[1 + (h >> 3) % 8]
          || ' ' || (array['enviar', 'transmitir', 'gerar', 'consultar', 'importar', 'validar', 'processar', 'fechar'])[1 + (h >> 6) % 8]
          || ' ' || (array['o evento S-1200', 'o evento S-2200', 'a folha de pagamento', 'a nota fiscal', 'o certificado digital',
                           'o relatório de férias', 'o lote do eSocial', 'o arquivo SPED', 'o backup do banco', 'o acesso à VPN',
                           'a DCTFWeb', 'o cadastro de funcionário', 'a rescisão', 'o recibo de entrega', 'o XML de retorno',
                           'o servidor de aplicação'])[1 + (h >> 9) % 16]
          || ' ' || (array['na filial', 'em produção', 'no ambiente de homologação', 'após a atualização', 'desde ontem',
                           'na competência atual', 'com mensagem de erro', 'pela manhã'])[1 + (h >> 13) % 8]
          || CASE WHEN id % 1000003 = 7 THEN ' (ornitorrinco)' WHEN id % 100003 = 11 THEN ' (xilogravura)' ELSE '' END AS title,
          'O usuário ' || (array['Maria', 'João', 'Ana', 'Pedro', 'Carla', 'Lucas', 'Fernanda', 'Rafael'])[1 + (h >> 16) % 8]
          || ' relata que ' || (array['o sistema apresenta mensagem de erro', 'a tela fica travada', 'o processamento não termina',
                                     'o retorno do governo veio com rejeição', 'os valores estão divergentes',
                                     'o arquivo não é aceito', 'a integração parou', 'o acesso foi negado'])[1 + (h >> 19) % 8]
          || ' ' || (array['desde a última atualização.', 'apenas em alguns funcionários.', 'em todas as filiais.',
                           'quando o volume é grande.', 'no fechamento do mês.', 'ao usar o certificado A1.',
                           'depois da troca de senha.', 'sem motivo aparente.'])[1 + (h >> 22) % 8]
          || CASE WHEN (h >> 25) % 1000 = 0 THEN ' Plano de contingência acionado.' ELSE '' END
          || ' Protocolo ' || (h % 1000000)::text || '.' AS description
        FROM (
          SELECT id, child,
            hashint8extended(id, 0) & 9223372036854775807 AS h,
            hashint8extended(CASE WHEN child THEN id - 1 ELSE id END, 0) & 9223372036854775807 AS hb
          FROM generate_series(:lo::bigint, :hi::bigint) id,
            LATERAL (SELECT id % 100 = 22 AND id > :total - :total / 5 AND id <= :total - :total / 10 AS child) c
        ) d
      ) e
      JOIN bench_targets t ON t.item_id = e.item_id AND t.priority::text = e.priority
      JOIN bench_orgs o ON o.slot = e.hb % 100
    ) f
  ) g
) x
JOIN bench_analysts a ON a.team::text = x.team AND a.slot = (x.h >> 36) % 10;
