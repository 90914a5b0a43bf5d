-- gmud foundation: people, configuration items, calendars, committees, windows and RDMs.
-- Instants are timestamptz (UTC); local rules (time zones, business hours) live in the domain crate.

CREATE TABLE organizations (
  id BIGSERIAL PRIMARY KEY,
  code TEXT NOT NULL CONSTRAINT organizations_code_key UNIQUE,
  name TEXT NOT NULL,
  timezone TEXT NOT NULL DEFAULT 'America/Sao_Paulo',
  created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
  id BIGSERIAL PRIMARY KEY,
  username TEXT NOT NULL CONSTRAINT users_username_key UNIQUE,
  display_name TEXT NOT NULL,
  email TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  roles TEXT[] NOT NULL CHECK (cardinality(roles) > 0),
  team TEXT CHECK (team IN ('rh', 'taf_tss', 'cloud', 'dev')),
  organization_id BIGINT REFERENCES organizations(id),
  active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMPTZ NOT NULL,
  -- A customer is bound to exactly one organisation (SPEC §2).
  CONSTRAINT users_customer_has_organization CHECK (NOT ('customer' = ANY(roles)) OR organization_id IS NOT NULL)
);

CREATE TABLE topologies (
  id BIGSERIAL PRIMARY KEY,
  organization_id BIGINT NOT NULL REFERENCES organizations(id),
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  CONSTRAINT topologies_organization_name_key UNIQUE (organization_id, name)
);

CREATE TABLE services (
  id BIGSERIAL PRIMARY KEY,
  code TEXT NOT NULL CONSTRAINT services_code_key UNIQUE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT ''
);

-- A configuration item: what a change touches (organisation, topology, environment, service).
CREATE TABLE configuration_items (
  id BIGSERIAL PRIMARY KEY,
  organization_id BIGINT NOT NULL REFERENCES organizations(id),
  topology_id BIGINT REFERENCES topologies(id),
  environment TEXT NOT NULL CHECK (environment IN ('production', 'homologation')),
  service_id BIGINT NOT NULL REFERENCES services(id),
  name TEXT NOT NULL,
  CONSTRAINT configuration_items_name_key UNIQUE (organization_id, name)
);
CREATE INDEX configuration_items_service_idx ON configuration_items (service_id);

CREATE TABLE calendars (
  id BIGSERIAL PRIMARY KEY,
  code TEXT NOT NULL CONSTRAINT calendars_code_key UNIQUE,
  name TEXT NOT NULL,
  timezone TEXT NOT NULL,
  working_days TEXT[] NOT NULL,
  -- [{"start":"07:00","end":"19:00"}, ...]
  business_hours JSONB NOT NULL
);

CREATE TABLE holidays (
  id BIGSERIAL PRIMARY KEY,
  calendar_id BIGINT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  date DATE NOT NULL,
  name TEXT NOT NULL,
  -- Empty: closed all day; otherwise the business ranges of a partial day.
  open_hours JSONB NOT NULL DEFAULT '[]',
  CONSTRAINT holidays_calendar_date_key UNIQUE (calendar_id, date)
);

-- Versioned, append-only: the policy in force is the highest version.
CREATE TABLE calendar_policies (
  version INTEGER PRIMARY KEY,
  timezone TEXT NOT NULL,
  calendar_id BIGINT NOT NULL REFERENCES calendars(id),
  meeting_weekday TEXT NOT NULL,
  meeting_start TEXT NOT NULL,
  meeting_duration_minutes INTEGER NOT NULL CHECK (meeting_duration_minutes > 0),
  cutoff_time TEXT NOT NULL,
  window_weekday TEXT NOT NULL,
  window_start TEXT NOT NULL,
  window_duration_minutes INTEGER NOT NULL CHECK (window_duration_minutes > 0),
  note TEXT NOT NULL DEFAULT '',
  created_by BIGINT REFERENCES users(id),
  created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE committees (
  id BIGSERIAL PRIMARY KEY,
  code TEXT NOT NULL CONSTRAINT committees_code_key UNIQUE,
  name TEXT NOT NULL,
  -- cm meets weekly with a cut-off; cme decides emergencies at any time (SPEC §3.3).
  kind TEXT NOT NULL CHECK (kind IN ('cm', 'cme')),
  approval_policy TEXT NOT NULL DEFAULT 'consensual' CHECK (approval_policy IN ('consensual', 'any', 'majority', 'n_of_m')),
  approval_n INTEGER CHECK (approval_n IS NULL OR approval_n > 0),
  CONSTRAINT committees_n_of_m_has_n CHECK (approval_policy <> 'n_of_m' OR approval_n IS NOT NULL)
);

CREATE TABLE committee_members (
  committee_id BIGINT NOT NULL REFERENCES committees(id) ON DELETE CASCADE,
  user_id BIGINT NOT NULL REFERENCES users(id),
  PRIMARY KEY (committee_id, user_id)
);

-- Meeting occurrences, materialised from the policy when first needed.
CREATE TABLE committee_meetings (
  id BIGSERIAL PRIMARY KEY,
  committee_id BIGINT NOT NULL REFERENCES committees(id),
  original_date DATE NOT NULL,
  starts_at TIMESTAMPTZ NOT NULL,
  ends_at TIMESTAMPTZ NOT NULL,
  cutoff_at TIMESTAMPTZ NOT NULL,
  on_holiday BOOLEAN NOT NULL,
  rescheduled BOOLEAN NOT NULL DEFAULT FALSE,
  status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'closed')),
  policy_version INTEGER NOT NULL REFERENCES calendar_policies(version),
  closed_by BIGINT REFERENCES users(id),
  closed_at TIMESTAMPTZ,
  close_note TEXT,
  CONSTRAINT committee_meetings_occurrence_key UNIQUE (committee_id, original_date),
  CHECK (ends_at > starts_at)
);
CREATE INDEX committee_meetings_cutoff_idx ON committee_meetings (committee_id, cutoff_at);

CREATE TABLE meeting_reschedules (
  id BIGSERIAL PRIMARY KEY,
  meeting_id BIGINT NOT NULL REFERENCES committee_meetings(id),
  old_starts_at TIMESTAMPTZ NOT NULL,
  new_starts_at TIMESTAMPTZ NOT NULL,
  new_ends_at TIMESTAMPTZ NOT NULL,
  reason TEXT NOT NULL,
  actor_id BIGINT NOT NULL REFERENCES users(id),
  at TIMESTAMPTZ NOT NULL
);

CREATE TABLE maintenance_windows (
  id BIGSERIAL PRIMARY KEY,
  original_date DATE NOT NULL CONSTRAINT maintenance_windows_occurrence_key UNIQUE,
  starts_at TIMESTAMPTZ NOT NULL,
  ends_at TIMESTAMPTZ NOT NULL,
  flexed BOOLEAN NOT NULL DEFAULT FALSE,
  policy_version INTEGER NOT NULL REFERENCES calendar_policies(version),
  CHECK (ends_at > starts_at)
);
CREATE INDEX maintenance_windows_starts_idx ON maintenance_windows (starts_at);

-- A flex (move/extend one occurrence) takes effect only once the committee approves it.
CREATE TABLE window_flexes (
  id BIGSERIAL PRIMARY KEY,
  window_id BIGINT NOT NULL REFERENCES maintenance_windows(id),
  new_starts_at TIMESTAMPTZ NOT NULL,
  new_ends_at TIMESTAMPTZ NOT NULL,
  reason TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  requested_by BIGINT NOT NULL REFERENCES users(id),
  requested_at TIMESTAMPTZ NOT NULL,
  decided_by BIGINT REFERENCES users(id),
  decided_at TIMESTAMPTZ,
  decision_reason TEXT,
  CHECK (new_ends_at > new_starts_at)
);

-- Prioritisation criteria are data (SPEC §3.1).
CREATE TABLE priority_matrix (
  impact TEXT NOT NULL CHECK (impact IN ('low', 'medium', 'high')),
  urgency TEXT NOT NULL CHECK (urgency IN ('low', 'medium', 'high')),
  priority TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  PRIMARY KEY (impact, urgency)
);

CREATE TABLE standard_templates (
  id BIGSERIAL PRIMARY KEY,
  code TEXT NOT NULL CONSTRAINT standard_templates_code_key UNIQUE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  implementation_plan TEXT NOT NULL,
  estimated_duration_minutes INTEGER NOT NULL CHECK (estimated_duration_minutes > 0),
  rollback_plan TEXT NOT NULL,
  estimated_rollback_minutes INTEGER NOT NULL CHECK (estimated_rollback_minutes >= 0),
  active BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE rdms (
  id BIGSERIAL PRIMARY KEY,
  rdm_type TEXT NOT NULL CHECK (rdm_type IN ('normal', 'emergency', 'standard')),
  state TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  justification TEXT NOT NULL DEFAULT '',
  category TEXT,
  impact TEXT CHECK (impact IN ('low', 'medium', 'high')),
  urgency TEXT CHECK (urgency IN ('low', 'medium', 'high')),
  priority TEXT,
  risk TEXT CHECK (risk IN ('low', 'medium', 'high')),
  technical_opinion TEXT,
  implementation_plan TEXT,
  estimated_duration_minutes INTEGER CHECK (estimated_duration_minutes > 0),
  rollback_plan TEXT,
  estimated_rollback_minutes INTEGER CHECK (estimated_rollback_minutes >= 0),
  homologation_evidence TEXT,
  communication_plan TEXT,
  customers_notified_at TIMESTAMPTZ,
  customers_notification TEXT,
  review TEXT,
  standard_template_id BIGINT REFERENCES standard_templates(id),
  requester_id BIGINT NOT NULL REFERENCES users(id),
  requester_group TEXT,
  committee_id BIGINT REFERENCES committees(id),
  meeting_id BIGINT REFERENCES committee_meetings(id),
  window_id BIGINT REFERENCES maintenance_windows(id),
  planned_start TIMESTAMPTZ,
  version INTEGER NOT NULL DEFAULT 1,
  -- Bumped by content edits only: committee votes count for the revision they were cast on.
  revision INTEGER NOT NULL DEFAULT 1,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  -- Portuguese full-text search over what people type.
  search TSVECTOR GENERATED ALWAYS AS (
    to_tsvector('portuguese', title || ' ' || description || ' ' || justification)
  ) STORED
);
CREATE INDEX rdms_list_idx ON rdms (id DESC);
CREATE INDEX rdms_state_idx ON rdms (state, id DESC);
CREATE INDEX rdms_requester_idx ON rdms (requester_id, id DESC);
CREATE INDEX rdms_window_idx ON rdms (window_id) WHERE window_id IS NOT NULL;
CREATE INDEX rdms_meeting_idx ON rdms (meeting_id) WHERE meeting_id IS NOT NULL;
CREATE INDEX rdms_search_idx ON rdms USING GIN (search);

CREATE TABLE rdm_items (
  rdm_id BIGINT NOT NULL REFERENCES rdms(id) ON DELETE CASCADE,
  item_id BIGINT NOT NULL REFERENCES configuration_items(id),
  PRIMARY KEY (rdm_id, item_id)
);
CREATE INDEX rdm_items_item_idx ON rdm_items (item_id, rdm_id);

-- Members the RDM names as involved: required voters besides the committee's fixed members.
CREATE TABLE rdm_involved_members (
  rdm_id BIGINT NOT NULL REFERENCES rdms(id) ON DELETE CASCADE,
  user_id BIGINT NOT NULL REFERENCES users(id),
  PRIMARY KEY (rdm_id, user_id)
);

CREATE TABLE rdm_votes (
  id BIGSERIAL PRIMARY KEY,
  rdm_id BIGINT NOT NULL REFERENCES rdms(id),
  committee_id BIGINT NOT NULL REFERENCES committees(id),
  voter_id BIGINT NOT NULL REFERENCES users(id),
  decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
  reason TEXT,
  revision INTEGER NOT NULL,
  meeting_id BIGINT REFERENCES committee_meetings(id),
  at TIMESTAMPTZ NOT NULL,
  CONSTRAINT rdm_votes_one_per_voter UNIQUE (rdm_id, committee_id, voter_id)
);

-- Append-only history of every state change and recorded fact.
CREATE TABLE rdm_transitions (
  id BIGSERIAL PRIMARY KEY,
  rdm_id BIGINT NOT NULL REFERENCES rdms(id),
  action TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  actor_id BIGINT REFERENCES users(id),
  reason TEXT,
  detail JSONB NOT NULL DEFAULT '{}',
  at TIMESTAMPTZ NOT NULL
);
CREATE INDEX rdm_transitions_rdm_idx ON rdm_transitions (rdm_id, id);

CREATE FUNCTION forbid_history_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'history is append-only';
END $$;
CREATE TRIGGER rdm_transitions_append_only BEFORE UPDATE OR DELETE ON rdm_transitions
  FOR EACH ROW EXECUTE FUNCTION forbid_history_rewrite();

-- A create repeated with the same Idempotency-Key returns the first result.
CREATE TABLE idempotency_keys (
  user_id BIGINT NOT NULL REFERENCES users(id),
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  response JSONB NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (user_id, key)
);
