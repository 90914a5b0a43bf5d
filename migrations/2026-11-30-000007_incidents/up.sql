-- Incidents (SPEC §4): calendars with holiday rules and included calendars, the support
-- catalog (items, SLA targets, team OLAs, contracts, queues, routing rules), tickets with their
-- SLA clocks, comments, validation links, contact attempts and links to RDMs.
-- Every ticket-side row carries organization_id: the ticket tables can be distributed by
-- organisation (Citus) without a redesign.

-- Calendars that need no yearly typing (SPEC §6).
CREATE TABLE holiday_rules (
  id BIGSERIAL PRIMARY KEY,
  calendar_id BIGINT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  name TEXT NOT NULL CHECK (btrim(name) <> ''),
  -- A fixed day every year (month, day), or days after Easter Sunday (easter_offset).
  month INTEGER CHECK (month BETWEEN 1 AND 12),
  day INTEGER CHECK (day BETWEEN 1 AND 31),
  easter_offset INTEGER CHECK (easter_offset BETWEEN -200 AND 200),
  open_hours JSONB NOT NULL DEFAULT '[]',
  first_year INTEGER,
  last_year INTEGER,
  CONSTRAINT holiday_rules_one_kind CHECK (
    (month IS NOT NULL AND day IS NOT NULL AND easter_offset IS NULL)
    OR (month IS NULL AND day IS NULL AND easter_offset IS NOT NULL)),
  CONSTRAINT holiday_rules_years CHECK (first_year IS NULL OR last_year IS NULL OR first_year <= last_year)
);
CREATE INDEX holiday_rules_calendar_idx ON holiday_rules (calendar_id);

-- National + state + municipal: a calendar includes others' holidays and rules.
CREATE TABLE calendar_includes (
  calendar_id BIGINT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  included_id BIGINT NOT NULL REFERENCES calendars(id),
  PRIMARY KEY (calendar_id, included_id),
  CONSTRAINT calendar_includes_not_itself CHECK (calendar_id <> included_id)
);

ALTER TABLE organizations ADD COLUMN calendar_id BIGINT REFERENCES calendars(id);

-- The support catalog (SPEC §4.1): data, not code.
CREATE TABLE queues (
  id BIGSERIAL PRIMARY KEY,
  code TEXT NOT NULL CONSTRAINT queues_code_key UNIQUE,
  name TEXT NOT NULL,
  team team NOT NULL,
  is_default BOOLEAN NOT NULL DEFAULT FALSE
);
-- At most one default queue: where a ticket no rule matches goes, visibly.
CREATE UNIQUE INDEX queues_one_default ON queues (is_default) WHERE is_default;

CREATE TABLE support_items (
  id BIGSERIAL PRIMARY KEY,
  code TEXT NOT NULL CONSTRAINT support_items_code_key UNIQUE,
  name TEXT NOT NULL,
  -- The product a contract names (e.g. SMART eSocial covers the eSocial item).
  product TEXT NOT NULL,
  -- 24×7: its clocks count wall-clock hours, not business hours.
  round_the_clock BOOLEAN NOT NULL DEFAULT FALSE
);

-- Append-only per item and priority: a ticket keeps the targets in force when it was opened.
CREATE TABLE sla_targets (
  id BIGSERIAL PRIMARY KEY,
  item_id BIGINT NOT NULL REFERENCES support_items(id),
  priority priority NOT NULL,
  response_minutes INTEGER NOT NULL CHECK (response_minutes > 0),
  resolution_minutes INTEGER NOT NULL CHECK (resolution_minutes > 0),
  valid_from TIMESTAMPTZ NOT NULL,
  CONSTRAINT sla_targets_key UNIQUE (item_id, priority, valid_from)
);

-- A team's own internal target (OLA) for the work handed to it as a child ticket.
CREATE TABLE team_olas (
  team team NOT NULL,
  priority priority NOT NULL,
  response_minutes INTEGER NOT NULL CHECK (response_minutes > 0),
  resolution_minutes INTEGER NOT NULL CHECK (resolution_minutes > 0),
  valid_from TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (team, priority, valid_from)
);

CREATE TABLE contracts (
  id BIGSERIAL PRIMARY KEY,
  organization_id BIGINT NOT NULL REFERENCES organizations(id),
  product TEXT NOT NULL,
  calendar_id BIGINT REFERENCES calendars(id),
  valid_from DATE NOT NULL,
  valid_until DATE,
  CONSTRAINT contracts_period CHECK (valid_until IS NULL OR valid_from <= valid_until)
);
CREATE INDEX contracts_organization_idx ON contracts (organization_id, product);

-- Ordered: the first rule that matches routes the ticket.
CREATE TABLE routing_rules (
  id BIGSERIAL PRIMARY KEY,
  position INTEGER NOT NULL CONSTRAINT routing_rules_position_key UNIQUE,
  item_id BIGINT REFERENCES support_items(id),
  -- The organisation must hold a contract in force for this product.
  contract_product TEXT,
  organization_id BIGINT REFERENCES organizations(id),
  queue_id BIGINT NOT NULL REFERENCES queues(id)
);

-- The numbers of SPEC §4.3, as data (one row).
CREATE TABLE ticket_settings (
  id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
  default_calendar_id BIGINT NOT NULL REFERENCES calendars(id),
  auto_close_business_hours INTEGER NOT NULL DEFAULT 60 CHECK (auto_close_business_hours > 0),
  reminder_business_hours INTEGER NOT NULL DEFAULT 12 CHECK (reminder_business_hours >= 0),
  max_contact_attempts INTEGER NOT NULL DEFAULT 3 CHECK (max_contact_attempts > 0),
  contact_window_hours INTEGER NOT NULL DEFAULT 72 CHECK (contact_window_hours > 0)
);

CREATE TYPE ticket_state AS ENUM ('new', 'in_progress', 'pending', 'resolved', 'closed', 'cancelled');
CREATE TYPE ticket_kind AS ENUM ('incident', 'internal', 'escalation', 'non_conformity');

CREATE TABLE tickets (
  id BIGSERIAL PRIMARY KEY,
  organization_id BIGINT NOT NULL REFERENCES organizations(id),
  kind ticket_kind NOT NULL,
  parent_id BIGINT REFERENCES tickets(id),
  follow_up_of BIGINT REFERENCES tickets(id),
  item_id BIGINT NOT NULL REFERENCES support_items(id),
  title TEXT NOT NULL CHECK (btrim(title) <> ''),
  description TEXT NOT NULL,
  priority priority NOT NULL,
  state ticket_state NOT NULL,
  pending_on TEXT CHECK (pending_on IN ('customer', 'third_party')),
  pending_reason TEXT,
  queue_id BIGINT NOT NULL REFERENCES queues(id),
  team team NOT NULL,
  assignee_id BIGINT REFERENCES users(id),
  requester_id BIGINT NOT NULL REFERENCES users(id),
  calendar_id BIGINT NOT NULL REFERENCES calendars(id),
  round_the_clock BOOLEAN NOT NULL,
  opened_at TIMESTAMPTZ NOT NULL,
  -- When the current team received the work: its clocks count from here (glpi #1911).
  received_at TIMESTAMPTZ NOT NULL,
  -- The SLA (or OLA) definition in force at this instant applies to the ticket.
  sla_pinned_at TIMESTAMPTZ NOT NULL,
  -- First-response clock (seconds; see domain::sla).
  response_target_s BIGINT NOT NULL,
  response_accrued_s BIGINT NOT NULL DEFAULT 0,
  response_running_since TIMESTAMPTZ,
  response_due_at TIMESTAMPTZ,
  response_breached_at TIMESTAMPTZ,
  response_stopped_at TIMESTAMPTZ,
  -- Resolution clock.
  resolution_target_s BIGINT NOT NULL,
  resolution_accrued_s BIGINT NOT NULL DEFAULT 0,
  resolution_running_since TIMESTAMPTZ,
  resolution_due_at TIMESTAMPTZ,
  resolution_breached_at TIMESTAMPTZ,
  resolution_stopped_at TIMESTAMPTZ,
  solution TEXT,
  resolved_at TIMESTAMPTZ,
  -- Counts resolutions: links and timers are bound to one resolution.
  resolution_no INTEGER NOT NULL DEFAULT 0,
  auto_close_at TIMESTAMPTZ,
  closed_at TIMESTAMPTZ,
  close_reason TEXT,
  reopen_count INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  updated_at TIMESTAMPTZ NOT NULL,
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('portuguese', title), 'A') || setweight(to_tsvector('portuguese', description), 'B')) STORED,
  CONSTRAINT tickets_parent_kind CHECK ((kind = 'incident') = (parent_id IS NULL)),
  CONSTRAINT tickets_not_own_parent CHECK (parent_id <> id)
);
-- Lists are keyset-paginated newest first; each filter has an index that serves it in order.
CREATE INDEX tickets_state_idx ON tickets (state, id DESC);
CREATE INDEX tickets_queue_idx ON tickets (queue_id, state, id DESC);
CREATE INDEX tickets_assignee_idx ON tickets (assignee_id, state, id DESC) WHERE assignee_id IS NOT NULL;
CREATE INDEX tickets_organization_idx ON tickets (organization_id, id DESC);
CREATE INDEX tickets_priority_idx ON tickets (priority, state, id DESC);
CREATE INDEX tickets_breached_idx ON tickets (id DESC)
  WHERE response_breached_at IS NOT NULL OR resolution_breached_at IS NOT NULL;
CREATE INDEX tickets_parent_idx ON tickets (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX tickets_follow_up_idx ON tickets (follow_up_of) WHERE follow_up_of IS NOT NULL;
CREATE INDEX tickets_search_idx ON tickets USING GIN (search);

CREATE TABLE ticket_comments (
  id BIGSERIAL PRIMARY KEY,
  ticket_id BIGINT NOT NULL REFERENCES tickets(id),
  organization_id BIGINT NOT NULL REFERENCES organizations(id),
  author_id BIGINT NOT NULL REFERENCES users(id),
  -- public: the customer reads it; internal: support only; solution_proposal: support only,
  -- and listed for every analyst of the team (SPEC §4.2).
  visibility TEXT NOT NULL CHECK (visibility IN ('public', 'internal', 'solution_proposal')),
  body TEXT NOT NULL CHECK (btrim(body) <> ''),
  team team,
  at TIMESTAMPTZ NOT NULL
);
CREATE INDEX ticket_comments_ticket_idx ON ticket_comments (ticket_id, id);
CREATE INDEX ticket_comments_proposals_idx ON ticket_comments (team, id DESC) WHERE visibility = 'solution_proposal';

-- Signed one-time confirm/reopen links, bound to a ticket, a resolution and a recipient.
CREATE TABLE ticket_links (
  id BIGSERIAL PRIMARY KEY,
  ticket_id BIGINT NOT NULL REFERENCES tickets(id),
  organization_id BIGINT NOT NULL REFERENCES organizations(id),
  resolution_no INTEGER NOT NULL,
  recipient_id BIGINT NOT NULL REFERENCES users(id),
  created_at TIMESTAMPTZ NOT NULL,
  used_at TIMESTAMPTZ,
  used_action TEXT CHECK (used_action IN ('confirm', 'reopen')),
  CONSTRAINT ticket_links_once UNIQUE (ticket_id, resolution_no, recipient_id)
);

CREATE TABLE ticket_contact_attempts (
  id BIGSERIAL PRIMARY KEY,
  ticket_id BIGINT NOT NULL REFERENCES tickets(id),
  organization_id BIGINT NOT NULL REFERENCES organizations(id),
  channel TEXT NOT NULL CHECK (channel IN ('phone', 'remote_session', 'email', 'chat')),
  at TIMESTAMPTZ NOT NULL,
  answered BOOLEAN NOT NULL,
  evidence TEXT NOT NULL CHECK (btrim(evidence) <> ''),
  recorded_by BIGINT NOT NULL REFERENCES users(id),
  recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX ticket_contact_attempts_ticket_idx ON ticket_contact_attempts (ticket_id, at);

-- An incident and the RDM that fixes it; a non-conformity and the RDM that ships its fix.
CREATE TABLE ticket_rdm_links (
  ticket_id BIGINT NOT NULL REFERENCES tickets(id),
  rdm_id BIGINT NOT NULL REFERENCES rdms(id),
  organization_id BIGINT NOT NULL REFERENCES organizations(id),
  created_by BIGINT NOT NULL REFERENCES users(id),
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (ticket_id, rdm_id)
);
CREATE INDEX ticket_rdm_links_rdm_idx ON ticket_rdm_links (rdm_id);

ALTER TYPE entity_kind ADD VALUE 'ticket';
