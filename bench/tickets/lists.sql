-- The ticket lists (tickets/list.rs) as diesel sends them, for bench/scale.sh (run by
-- bench/tickets.sh on the 10-million-ticket database): each filter alone, two combined, a
-- cursor page and the customer's scope (organisation and kind added), newest first, page of
-- 50 (LIMIT 51). Format as in bench/scale/queries.sql: `-- name:`, `-- types:`, `-- args:`,
-- the statement, `;` on its own line.

-- name: state=in_progress
-- types: ticket_state, bigint
-- args: 'in_progress'::ticket_state, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE ("tickets"."state" = $1) ORDER BY "tickets"."id" DESC LIMIT $2
;

-- name: state=closed
-- types: ticket_state, bigint
-- args: 'closed'::ticket_state, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE ("tickets"."state" = $1) ORDER BY "tickets"."id" DESC LIMIT $2
;

-- name: state=closed, cursor=5000000
-- types: ticket_state, bigint, bigint
-- args: 'closed'::ticket_state, 5000000::bigint, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE (("tickets"."state" = $1) AND ("tickets"."id" < $2)) ORDER BY "tickets"."id" DESC LIMIT $3
;

-- name: queue_id=3 (taf_tss)
-- types: bigint, bigint
-- args: 3::bigint, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE ("tickets"."queue_id" = $1) ORDER BY "tickets"."id" DESC LIMIT $2
;

-- name: queue_id=3 & state=resolved
-- types: bigint, ticket_state, bigint
-- args: 3::bigint, 'resolved'::ticket_state, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE (("tickets"."state" = $2) AND ("tickets"."queue_id" = $1)) ORDER BY "tickets"."id" DESC LIMIT $3
;

-- name: assignee_id=rh1
-- types: bigint, bigint
-- args: (SELECT id FROM users WHERE username = 'rh1'), 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE ("tickets"."assignee_id" = $1) ORDER BY "tickets"."id" DESC LIMIT $2
;

-- name: assignee_id=rh1 & state=in_progress
-- types: bigint, ticket_state, bigint
-- args: (SELECT id FROM users WHERE username = 'rh1'), 'in_progress'::ticket_state, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE (("tickets"."state" = $2) AND ("tickets"."assignee_id" = $1)) ORDER BY "tickets"."id" DESC LIMIT $3
;

-- name: organization_id=ACME
-- types: bigint, bigint
-- args: 1::bigint, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE ("tickets"."organization_id" = $1) ORDER BY "tickets"."id" DESC LIMIT $2
;

-- name: priority=critical
-- types: priority, bigint
-- args: 'critical'::priority, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE ("tickets"."priority" = $1) ORDER BY "tickets"."id" DESC LIMIT $2
;

-- name: breached=true
-- types: bigint
-- args: 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE (("tickets"."response_breached_at" IS NOT NULL) OR ("tickets"."resolution_breached_at" IS NOT NULL)) ORDER BY "tickets"."id" DESC LIMIT $1
;

-- name: q=ornitorrinco (10 tickets)
-- types: text, bigint
-- args: 'ornitorrinco'::text, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE (tickets.search @@ websearch_to_tsquery('portuguese', $1)) ORDER BY "tickets"."id" DESC LIMIT $2
;

-- name: q=xilogravura (100 tickets)
-- types: text, bigint
-- args: 'xilogravura'::text, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE (tickets.search @@ websearch_to_tsquery('portuguese', $1)) ORDER BY "tickets"."id" DESC LIMIT $2
;

-- name: q=contingência (1 in 1,000)
-- types: text, bigint
-- args: 'contingência'::text, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE (tickets.search @@ websearch_to_tsquery('portuguese', $1)) ORDER BY "tickets"."id" DESC LIMIT $2
;

-- name: q=erro (common word)
-- types: text, bigint
-- args: 'erro'::text, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE (tickets.search @@ websearch_to_tsquery('portuguese', $1)) ORDER BY "tickets"."id" DESC LIMIT $2
;

-- name: q=certificado (1 in 16 titles)
-- types: text, bigint
-- args: 'certificado'::text, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE (tickets.search @@ websearch_to_tsquery('portuguese', $1)) ORDER BY "tickets"."id" DESC LIMIT $2
;

-- name: customer ACME: state=pending
-- types: bigint, ticket_kind, ticket_state, bigint
-- args: 1::bigint, 'incident'::ticket_kind, 'pending'::ticket_state, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE ((("tickets"."organization_id" = $1) AND ("tickets"."kind" = $2)) AND ("tickets"."state" = $3)) ORDER BY "tickets"."id" DESC LIMIT $4
;

-- name: customer ACME: q=xilogravura
-- types: bigint, ticket_kind, text, bigint
-- args: 1::bigint, 'incident'::ticket_kind, 'xilogravura'::text, 51::bigint
SELECT "tickets"."id", "tickets"."kind", "tickets"."parent_id", "tickets"."organization_id", "tickets"."title", "tickets"."state", "tickets"."priority", "tickets"."queue_id", "tickets"."team", "tickets"."assignee_id", "tickets"."opened_at", "tickets"."resolution_due_at", "tickets"."response_breached_at", "tickets"."resolution_breached_at", "tickets"."auto_close_at" FROM "tickets" WHERE ((("tickets"."organization_id" = $1) AND ("tickets"."kind" = $2)) AND (tickets.search @@ websearch_to_tsquery('portuguese', $3))) ORDER BY "tickets"."id" DESC LIMIT $4
;
