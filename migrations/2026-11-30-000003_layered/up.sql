-- One home for each part: the job queue knows no job kinds and has two lanes; keys that make
-- a job exist once outlive the jobs.

-- Timers run inside the transaction that claims them; deliveries (mail, webhooks) are
-- claimed with a lease and run holding no connection. Each lane has its own workers.
CREATE TYPE job_lane AS ENUM ('timers', 'deliveries');
ALTER TABLE jobs ADD COLUMN lane job_lane NOT NULL DEFAULT 'timers';
UPDATE jobs SET lane = 'deliveries' WHERE kind = 'mail';
ALTER TABLE jobs ALTER COLUMN lane DROP DEFAULT;
-- A job kind is the name a registered job type declares.
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_name CHECK (kind ~ '^[a-z][a-z0-9_]*$');

-- The keys that make a job exist once (one e-mail per event and recipient, one timer per
-- instant). Kept apart so that pruning done jobs does not forget them; `keep_until` says
-- when a key may be forgotten (NULL: never).
CREATE TABLE job_keys (
  key TEXT PRIMARY KEY,
  keep_until TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL
);
INSERT INTO job_keys (key, keep_until, created_at)
  SELECT dedup_key, NULL, created_at FROM jobs WHERE dedup_key IS NOT NULL;
CREATE INDEX job_keys_keep_until_idx ON job_keys (keep_until) WHERE keep_until IS NOT NULL;
ALTER TABLE jobs DROP CONSTRAINT jobs_dedup_key_key;

-- What each lane's workers claim: due pending jobs of the lane, the constants in the index
-- predicate as in the claim's SQL.
DROP INDEX jobs_due_idx;
CREATE INDEX jobs_due_timers_idx ON jobs (run_at, id) WHERE status = 'pending' AND lane = 'timers';
CREATE INDEX jobs_due_deliveries_idx ON jobs (run_at, id) WHERE status = 'pending' AND lane = 'deliveries';
-- What the daily prune deletes.
CREATE INDEX jobs_done_idx ON jobs (finished_at) WHERE status = 'done';

-- Typed states: every state and kind column holds one of its enum's values, read and written
-- through the domain's enums. The checks they replace are dropped.
CREATE TYPE rdm_type AS ENUM ('normal', 'emergency', 'standard');
CREATE TYPE rdm_state AS ENUM ('draft', 'submitted', 'assessment', 'po_approved',
  'awaiting_committee', 'approved', 'scheduled', 'in_execution', 'implemented', 'failed',
  'rolled_back', 'closed', 'rejected', 'cancelled');
CREATE TYPE level AS ENUM ('low', 'medium', 'high');
CREATE TYPE priority AS ENUM ('low', 'medium', 'high', 'critical');
CREATE TYPE committee_kind AS ENUM ('cm', 'cme');
CREATE TYPE approval_policy AS ENUM ('consensual', 'any', 'majority', 'n_of_m');
CREATE TYPE meeting_status AS ENUM ('scheduled', 'closed');
CREATE TYPE flex_status AS ENUM ('pending', 'approved', 'rejected');
CREATE TYPE vote_decision AS ENUM ('approve', 'reject');
CREATE TYPE vote_channel AS ENUM ('api', 'email');
CREATE TYPE job_status AS ENUM ('pending', 'done', 'dead');
CREATE TYPE user_role AS ENUM ('requester', 'support_analyst', 'test_analyst', 'change_manager',
  'product_owner', 'change_agent', 'committee_member', 'support_coordinator', 'customer', 'admin');
CREATE TYPE team AS ENUM ('rh', 'taf_tss', 'cloud', 'dev');
CREATE TYPE environment AS ENUM ('production', 'homologation');

ALTER TABLE rdms DROP CONSTRAINT IF EXISTS rdms_rdm_type_check,
  DROP CONSTRAINT IF EXISTS rdms_impact_check, DROP CONSTRAINT IF EXISTS rdms_urgency_check,
  DROP CONSTRAINT IF EXISTS rdms_risk_check;
ALTER TABLE rdms
  ALTER COLUMN rdm_type TYPE rdm_type USING rdm_type::rdm_type,
  ALTER COLUMN state TYPE rdm_state USING state::rdm_state,
  ALTER COLUMN impact TYPE level USING impact::level,
  ALTER COLUMN urgency TYPE level USING urgency::level,
  ALTER COLUMN priority TYPE priority USING priority::priority,
  ALTER COLUMN risk TYPE level USING risk::level;

ALTER TABLE priority_matrix DROP CONSTRAINT IF EXISTS priority_matrix_impact_check,
  DROP CONSTRAINT IF EXISTS priority_matrix_urgency_check,
  DROP CONSTRAINT IF EXISTS priority_matrix_priority_check;
ALTER TABLE priority_matrix
  ALTER COLUMN impact TYPE level USING impact::level,
  ALTER COLUMN urgency TYPE level USING urgency::level,
  ALTER COLUMN priority TYPE priority USING priority::priority;

ALTER TABLE committees DROP CONSTRAINT IF EXISTS committees_kind_check,
  DROP CONSTRAINT IF EXISTS committees_approval_policy_check,
  DROP CONSTRAINT committees_n_of_m_has_n;
ALTER TABLE committees ALTER COLUMN approval_policy DROP DEFAULT;
ALTER TABLE committees
  ALTER COLUMN kind TYPE committee_kind USING kind::committee_kind,
  ALTER COLUMN approval_policy TYPE approval_policy USING approval_policy::approval_policy;
ALTER TABLE committees ALTER COLUMN approval_policy SET DEFAULT 'consensual',
  ADD CONSTRAINT committees_n_of_m_has_n CHECK (approval_policy <> 'n_of_m' OR approval_n IS NOT NULL);

ALTER TABLE committee_meetings DROP CONSTRAINT IF EXISTS committee_meetings_status_check;
ALTER TABLE committee_meetings ALTER COLUMN status DROP DEFAULT;
ALTER TABLE committee_meetings ALTER COLUMN status TYPE meeting_status USING status::meeting_status;
ALTER TABLE committee_meetings ALTER COLUMN status SET DEFAULT 'scheduled';

ALTER TABLE window_flexes DROP CONSTRAINT IF EXISTS window_flexes_status_check;
ALTER TABLE window_flexes ALTER COLUMN status DROP DEFAULT;
ALTER TABLE window_flexes ALTER COLUMN status TYPE flex_status USING status::flex_status;
ALTER TABLE window_flexes ALTER COLUMN status SET DEFAULT 'pending';

ALTER TABLE rdm_votes DROP CONSTRAINT IF EXISTS rdm_votes_decision_check,
  DROP CONSTRAINT IF EXISTS rdm_votes_channel_check;
ALTER TABLE rdm_votes ALTER COLUMN channel DROP DEFAULT;
ALTER TABLE rdm_votes
  ALTER COLUMN decision TYPE vote_decision USING decision::vote_decision,
  ALTER COLUMN channel TYPE vote_channel USING channel::vote_channel;
ALTER TABLE rdm_votes ALTER COLUMN channel SET DEFAULT 'api';

ALTER TABLE window_flex_votes DROP CONSTRAINT IF EXISTS window_flex_votes_decision_check;
ALTER TABLE window_flex_votes ALTER COLUMN decision TYPE vote_decision USING decision::vote_decision;

ALTER TABLE vote_links DROP CONSTRAINT IF EXISTS vote_links_used_decision_check;
ALTER TABLE vote_links ALTER COLUMN used_decision TYPE vote_decision USING used_decision::vote_decision;

ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_status_check;
DROP INDEX jobs_due_timers_idx, jobs_due_deliveries_idx, jobs_done_idx, jobs_dead_idx, jobs_pending_idx;
ALTER TABLE jobs ALTER COLUMN status DROP DEFAULT;
ALTER TABLE jobs ALTER COLUMN status TYPE job_status USING status::job_status;
ALTER TABLE jobs ALTER COLUMN status SET DEFAULT 'pending';
CREATE INDEX jobs_due_timers_idx ON jobs (run_at, id) WHERE status = 'pending' AND lane = 'timers';
CREATE INDEX jobs_due_deliveries_idx ON jobs (run_at, id) WHERE status = 'pending' AND lane = 'deliveries';
CREATE INDEX jobs_done_idx ON jobs (finished_at) WHERE status = 'done';
CREATE INDEX jobs_dead_idx ON jobs (id DESC) WHERE status = 'dead';
CREATE INDEX jobs_pending_idx ON jobs (id DESC) WHERE status = 'pending';

ALTER TABLE users DROP CONSTRAINT IF EXISTS users_team_check, DROP CONSTRAINT users_customer_has_organization;
ALTER TABLE users
  ALTER COLUMN roles TYPE user_role[] USING roles::user_role[],
  ALTER COLUMN team TYPE team USING team::team;
ALTER TABLE users ADD CONSTRAINT users_customer_has_organization
  CHECK (NOT ('customer' = ANY(roles)) OR organization_id IS NOT NULL);

ALTER TABLE configuration_items DROP CONSTRAINT IF EXISTS configuration_items_environment_check;
ALTER TABLE configuration_items ALTER COLUMN environment TYPE environment USING environment::environment;

-- Weekdays and local times stay text, in the one spelling the domain parses.
ALTER TABLE calendar_policies
  ADD CONSTRAINT calendar_policies_weekdays CHECK (
    meeting_weekday IN ('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday')
    AND window_weekday IN ('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday')),
  ADD CONSTRAINT calendar_policies_times CHECK (
    meeting_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' AND cutoff_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
    AND window_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$');
ALTER TABLE calendars ADD CONSTRAINT calendars_working_days CHECK (
  working_days <@ ARRAY['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']);

-- One append-only event log for every entity: who, when, what, from/to state, why, detail.
-- The history endpoints read it; notifications (and later webhooks) are derived from it.
CREATE TYPE entity_kind AS ENUM ('rdm', 'meeting', 'window', 'delegation', 'committee');
CREATE TABLE events (
  id BIGSERIAL PRIMARY KEY,
  entity entity_kind NOT NULL,
  entity_id BIGINT NOT NULL,
  action TEXT NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]*$'),
  from_state TEXT,
  to_state TEXT,
  actor_id BIGINT REFERENCES users(id),
  reason TEXT,
  detail JSONB NOT NULL DEFAULT '{}',
  at TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_entity_idx ON events (entity, entity_id, id);

-- The RDM history moves in whole, ids and order kept; then the meetings' moves.
INSERT INTO events (id, entity, entity_id, action, from_state, to_state, actor_id, reason, detail, at)
  SELECT id, 'rdm', rdm_id, action, from_state, to_state, actor_id, reason, detail, at
  FROM rdm_transitions ORDER BY id;
SELECT setval(pg_get_serial_sequence('events', 'id'), GREATEST((SELECT max(id) FROM events), 1),
  (SELECT count(*) > 0 FROM events));
INSERT INTO events (entity, entity_id, action, actor_id, reason, detail, at)
  SELECT 'meeting', meeting_id, 'reschedule', actor_id, reason,
    jsonb_build_object('old_starts_at', old_starts_at, 'new_starts_at', new_starts_at,
      'new_ends_at', new_ends_at),
    at
  FROM meeting_reschedules ORDER BY id;
DROP TABLE rdm_transitions;
DROP TABLE meeting_reschedules;

-- Append-only, enforced by the database: no UPDATE, DELETE or TRUNCATE.
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION forbid_history_rewrite();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION forbid_history_rewrite();

-- Rows that name a member, looked up by member (a delegation starting, a member leaving).
CREATE INDEX rdm_involved_members_user_idx ON rdm_involved_members (user_id);
