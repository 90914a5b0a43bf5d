-- The weekly operations review (SPEC §7, issue 10 item 4).

-- A change can fix an incident (the default, as before) or have caused it: the change failure
-- rate counts the changes with at least one `caused_by` incident.
ALTER TABLE ticket_rdm_links ADD COLUMN relation TEXT NOT NULL DEFAULT 'fixed_by'
  CONSTRAINT ticket_rdm_links_relation CHECK (relation IN ('fixed_by', 'caused_by'));

-- The review's day: São Paulo's calendar day of an instant.
CREATE FUNCTION ops_day(at TIMESTAMPTZ) RETURNS DATE LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (at AT TIME ZONE 'America/Sao_Paulo')::date $$;

-- Incident figures per São Paulo day × support item × organisation. Every counter is a sum,
-- over the incidents, of what the incident's current row says (ops_ticket_facts): a trigger
-- takes the old row's facts out and puts the new row's in, in the transaction of the change,
-- so the rollup is always exactly what a full rebuild (ops_rebuild) would give. A (day, item,
-- organisation) is spread over up to 8 rows (`shard`: the writing connection's), so a burst of
-- tickets of one organisation and service does not queue on one row lock until each commits;
-- readers sum the shards like the days.
CREATE TABLE ops_daily (
  day DATE NOT NULL,
  item_id BIGINT NOT NULL,
  organization_id BIGINT NOT NULL,
  shard INTEGER NOT NULL DEFAULT 0,
  opened INTEGER NOT NULL DEFAULT 0,
  -- +1 on the day an incident was opened, -1 on the day it left the open states (resolved,
  -- or cancelled): the backlog at the end of day D is the sum up to D.
  backlog_delta INTEGER NOT NULL DEFAULT 0,
  -- Incidents resolved (state resolved or closed) whose latest resolution fell on this day.
  resolved INTEGER NOT NULL DEFAULT 0,
  -- Of those, the ones reopened before (reopen_count > 0).
  resolved_reopened INTEGER NOT NULL DEFAULT 0,
  closed INTEGER NOT NULL DEFAULT 0,
  cancelled INTEGER NOT NULL DEFAULT 0,
  -- First responses given this day, and their time from opening: business (the clock's own
  -- accrued seconds, in the ticket's calendar) and wall-clock.
  responded INTEGER NOT NULL DEFAULT 0,
  response_business_s BIGINT NOT NULL DEFAULT 0,
  response_wall_s BIGINT NOT NULL DEFAULT 0,
  -- Resolutions (the `resolved` above): time from opening to resolution.
  resolution_business_s BIGINT NOT NULL DEFAULT 0,
  resolution_wall_s BIGINT NOT NULL DEFAULT 0,
  -- Clock outcomes: a clock counts on the day it breached, else on the day it stopped in time.
  response_met INTEGER NOT NULL DEFAULT 0,
  response_breached INTEGER NOT NULL DEFAULT 0,
  resolution_met INTEGER NOT NULL DEFAULT 0,
  resolution_breached INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, item_id, organization_id, shard)
);

-- Escalations of incidents per day × item × organisation × level, from the `escalate` events.
CREATE TABLE ops_daily_escalations (
  day DATE NOT NULL,
  item_id BIGINT NOT NULL,
  organization_id BIGINT NOT NULL,
  level INTEGER NOT NULL,
  escalations INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, item_id, organization_id, level)
);

-- What one ticket row contributes to ops_daily: one row per day it touches (incidents only).
CREATE FUNCTION ops_ticket_facts(t tickets) RETURNS TABLE (
  day DATE, opened INTEGER, backlog_delta INTEGER, resolved INTEGER, resolved_reopened INTEGER,
  closed INTEGER, cancelled INTEGER, responded INTEGER, response_business_s BIGINT,
  response_wall_s BIGINT, resolution_business_s BIGINT, resolution_wall_s BIGINT,
  response_met INTEGER, response_breached INTEGER, resolution_met INTEGER, resolution_breached INTEGER)
LANGUAGE sql STABLE AS $$
  SELECT f.* FROM (VALUES
    (ops_day(t.opened_at), 1, 1, 0, 0, 0, 0, 0, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0, 0, 0, 0),
    (ops_day(CASE WHEN t.state IN ('resolved', 'closed') AND t.resolved_at IS NOT NULL THEN t.resolved_at
                  WHEN t.state IN ('closed', 'cancelled') THEN t.closed_at END),
     0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (ops_day(CASE WHEN t.state IN ('resolved', 'closed') THEN t.resolved_at END),
     0, 0, 1, (t.reopen_count > 0)::int, 0, 0, 0, 0, 0, t.resolution_accrued_s,
     extract(epoch FROM t.resolved_at - t.opened_at)::bigint, 0, 0, 0, 0),
    (ops_day(CASE WHEN t.state = 'closed' THEN t.closed_at END), 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (ops_day(CASE WHEN t.state = 'cancelled' THEN t.closed_at END), 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (ops_day(t.response_stopped_at), 0, 0, 0, 0, 0, 0, 1, t.response_accrued_s,
     extract(epoch FROM t.response_stopped_at - t.opened_at)::bigint, 0, 0, 0, 0, 0, 0),
    (ops_day(coalesce(t.response_breached_at, t.response_stopped_at)), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     (t.response_breached_at IS NULL)::int, (t.response_breached_at IS NOT NULL)::int, 0, 0),
    (ops_day(coalesce(t.resolution_breached_at, t.resolution_stopped_at)), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, (t.resolution_breached_at IS NULL)::int, (t.resolution_breached_at IS NOT NULL)::int)
  ) AS f (day, opened, backlog_delta, resolved, resolved_reopened, closed, cancelled, responded,
          response_business_s, response_wall_s, resolution_business_s, resolution_wall_s,
          response_met, response_breached, resolution_met, resolution_breached)
  WHERE t.kind = 'incident' AND f.day IS NOT NULL
$$;

-- Adds `sign` × the facts of `t` and `usign` × those of `u` to ops_daily (one statement, rows
-- locked in key order so two transactions never wait on each other in a cycle; rows whose sums
-- are all zero untouched). PL/pgSQL, not SQL: PostgreSQL plans a SQL function's statement on
-- every call, and planning this one cost more than running it (bench/README.md).
CREATE FUNCTION ops_daily_add(t tickets, sign INTEGER, u tickets, usign INTEGER) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ops_daily AS d (day, item_id, organization_id, shard, opened, backlog_delta, resolved,
    resolved_reopened, closed, cancelled, responded, response_business_s, response_wall_s,
    resolution_business_s, resolution_wall_s, response_met, response_breached, resolution_met,
    resolution_breached)
  SELECT x.day, x.item_id, x.organization_id, pg_backend_pid() % 8, sum(x.s * x.opened), sum(x.s * x.backlog_delta),
    sum(x.s * x.resolved), sum(x.s * x.resolved_reopened), sum(x.s * x.closed), sum(x.s * x.cancelled),
    sum(x.s * x.responded), sum(x.s * x.response_business_s), sum(x.s * x.response_wall_s),
    sum(x.s * x.resolution_business_s), sum(x.s * x.resolution_wall_s), sum(x.s * x.response_met),
    sum(x.s * x.response_breached), sum(x.s * x.resolution_met), sum(x.s * x.resolution_breached)
  FROM (
    SELECT sign AS s, t.item_id, t.organization_id, f.* FROM ops_ticket_facts(t) f WHERE t.id IS NOT NULL
    UNION ALL
    SELECT usign, u.item_id, u.organization_id, g.* FROM ops_ticket_facts(u) g WHERE u.id IS NOT NULL
  ) x
  GROUP BY x.day, x.item_id, x.organization_id
  HAVING sum(x.s * x.opened) <> 0 OR sum(x.s * x.backlog_delta) <> 0 OR sum(x.s * x.resolved) <> 0
    OR sum(x.s * x.resolved_reopened) <> 0 OR sum(x.s * x.closed) <> 0 OR sum(x.s * x.cancelled) <> 0
    OR sum(x.s * x.responded) <> 0 OR sum(x.s * x.response_business_s) <> 0
    OR sum(x.s * x.response_wall_s) <> 0 OR sum(x.s * x.resolution_business_s) <> 0
    OR sum(x.s * x.resolution_wall_s) <> 0 OR sum(x.s * x.response_met) <> 0
    OR sum(x.s * x.response_breached) <> 0 OR sum(x.s * x.resolution_met) <> 0
    OR sum(x.s * x.resolution_breached) <> 0
  ORDER BY x.day, x.item_id, x.organization_id
  ON CONFLICT (day, item_id, organization_id, shard) DO UPDATE SET
    opened = d.opened + EXCLUDED.opened,
    backlog_delta = d.backlog_delta + EXCLUDED.backlog_delta,
    resolved = d.resolved + EXCLUDED.resolved,
    resolved_reopened = d.resolved_reopened + EXCLUDED.resolved_reopened,
    closed = d.closed + EXCLUDED.closed,
    cancelled = d.cancelled + EXCLUDED.cancelled,
    responded = d.responded + EXCLUDED.responded,
    response_business_s = d.response_business_s + EXCLUDED.response_business_s,
    response_wall_s = d.response_wall_s + EXCLUDED.response_wall_s,
    resolution_business_s = d.resolution_business_s + EXCLUDED.resolution_business_s,
    resolution_wall_s = d.resolution_wall_s + EXCLUDED.resolution_wall_s,
    response_met = d.response_met + EXCLUDED.response_met,
    response_breached = d.response_breached + EXCLUDED.response_breached,
    resolution_met = d.resolution_met + EXCLUDED.resolution_met,
    resolution_breached = d.resolution_breached + EXCLUDED.resolution_breached;
END $$;

CREATE FUNCTION ops_daily_on_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM ops_daily_add(NEW, 1, NULL::tickets, 0);
  ELSE
    PERFORM ops_daily_add(NEW, 1, OLD, -1);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER tickets_ops_daily_insert AFTER INSERT ON tickets
  FOR EACH ROW WHEN (NEW.kind = 'incident') EXECUTE FUNCTION ops_daily_on_ticket();
-- Only when something the facts read changed: an assignment, a comment or a pause costs nothing.
CREATE TRIGGER tickets_ops_daily_update AFTER UPDATE ON tickets
  FOR EACH ROW WHEN ((OLD.kind = 'incident' OR NEW.kind = 'incident') AND
    (OLD.state, OLD.item_id, OLD.organization_id, OLD.opened_at, OLD.resolved_at, OLD.closed_at,
     OLD.reopen_count, OLD.response_stopped_at, OLD.response_breached_at, OLD.response_accrued_s,
     OLD.resolution_stopped_at, OLD.resolution_breached_at, OLD.resolution_accrued_s)
    IS DISTINCT FROM
    (NEW.state, NEW.item_id, NEW.organization_id, NEW.opened_at, NEW.resolved_at, NEW.closed_at,
     NEW.reopen_count, NEW.response_stopped_at, NEW.response_breached_at, NEW.response_accrued_s,
     NEW.resolution_stopped_at, NEW.resolution_breached_at, NEW.resolution_accrued_s))
  EXECUTE FUNCTION ops_daily_on_ticket();

CREATE FUNCTION ops_escalation_on_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ops_daily_escalations AS d (day, item_id, organization_id, level, escalations)
  SELECT ops_day(NEW.at), t.item_id, t.organization_id, (NEW.detail->>'level')::int, 1
  FROM tickets t
  WHERE t.id = NEW.entity_id AND t.kind = 'incident' AND jsonb_typeof(NEW.detail->'level') = 'number'
  ON CONFLICT (day, item_id, organization_id, level) DO UPDATE SET escalations = d.escalations + 1;
  RETURN NULL;
END $$;

CREATE TRIGGER events_ops_escalations AFTER INSERT ON events
  FOR EACH ROW WHEN (NEW.entity = 'ticket' AND NEW.action = 'escalate')
  EXECUTE FUNCTION ops_escalation_on_event();

-- Recomputes both rollups from the tickets and the event log (after a bulk load that bypassed
-- the triggers, e.g. bench/tickets.sh's generator). The groups are few (days × items ×
-- organisations) but the planner cannot know it: it would sort every fact of every ticket
-- (50 million rows at 10 million tickets, spilled to disk); hashing them needs a few MB.
CREATE FUNCTION ops_rebuild() RETURNS void LANGUAGE sql
  SET enable_sort = off SET work_mem = '256MB' AS $$
  DELETE FROM ops_daily;
  DELETE FROM ops_daily_escalations;
  INSERT INTO ops_daily (day, item_id, organization_id, opened, backlog_delta, resolved,
    resolved_reopened, closed, cancelled, responded, response_business_s, response_wall_s,
    resolution_business_s, resolution_wall_s, response_met, response_breached, resolution_met,
    resolution_breached)
  SELECT f.day, t.item_id, t.organization_id, sum(f.opened), sum(f.backlog_delta), sum(f.resolved),
    sum(f.resolved_reopened), sum(f.closed), sum(f.cancelled), sum(f.responded),
    sum(f.response_business_s), sum(f.response_wall_s), sum(f.resolution_business_s),
    sum(f.resolution_wall_s), sum(f.response_met), sum(f.response_breached), sum(f.resolution_met),
    sum(f.resolution_breached)
  FROM tickets t, LATERAL ops_ticket_facts(t) f
  WHERE t.kind = 'incident'
  GROUP BY 1, 2, 3;
  INSERT INTO ops_daily_escalations (day, item_id, organization_id, level, escalations)
  SELECT ops_day(e.at), t.item_id, t.organization_id, (e.detail->>'level')::int, count(*)
  FROM events e JOIN tickets t ON t.id = e.entity_id AND t.kind = 'incident'
  WHERE e.entity = 'ticket' AND e.action = 'escalate' AND jsonb_typeof(e.detail->'level') = 'number'
  GROUP BY 1, 2, 3, 4;
$$;

SELECT ops_rebuild();

-- The change figures read the RDM transitions that end an execution, by instant; the
-- escalation drill-down reads the escalations by instant. Both are a small share of events.
CREATE INDEX events_rdm_outcomes_idx ON events (at)
  WHERE entity = 'rdm' AND to_state IN ('implemented', 'failed', 'rolled_back');
CREATE INDEX events_ticket_escalations_idx ON events (at)
  WHERE entity = 'ticket' AND action = 'escalate';
