-- Committee by e-mail: the job queue, vote links, delegation, consensual window flexes,
-- and the committee calendar's own timers.

-- Everything that happens later or elsewhere. A job is written in the transaction of the
-- change that causes it; workers claim due rows with FOR UPDATE SKIP LOCKED.
CREATE TABLE jobs (
  id BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL,
  payload JSONB NOT NULL DEFAULT '{}',
  -- Jobs that must exist once (one e-mail per event and recipient, one timer per instant).
  dedup_key TEXT CONSTRAINT jobs_dedup_key_key UNIQUE,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
  run_at TIMESTAMPTZ NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
  last_error TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ
);
-- Workers read only what is due: the cost follows the pending rows, not the table.
CREATE INDEX jobs_due_idx ON jobs (run_at, id) WHERE status = 'pending';
CREATE INDEX jobs_dead_idx ON jobs (id DESC) WHERE status = 'dead';
-- The admin's listings (by kind; what is still pending), newest first.
CREATE INDEX jobs_kind_idx ON jobs (kind, id DESC);
CREATE INDEX jobs_pending_idx ON jobs (id DESC) WHERE status = 'pending';

-- Secrets the instances share (the vote-link signing key), generated on first start.
CREATE TABLE server_secrets (
  name TEXT PRIMARY KEY,
  value BYTEA NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);

-- One-time approval links (SPEC §3.5): bound to the voter, the RDM and its revision, and
-- signed over those; the token itself is never stored.
CREATE TABLE vote_links (
  id BIGSERIAL PRIMARY KEY,
  rdm_id BIGINT NOT NULL REFERENCES rdms(id),
  committee_id BIGINT NOT NULL REFERENCES committees(id),
  -- The required voter the vote counts for.
  voter_id BIGINT NOT NULL REFERENCES users(id),
  -- Who the link was sent to: the voter, or their substitute.
  recipient_id BIGINT NOT NULL REFERENCES users(id),
  revision INTEGER NOT NULL,
  meeting_id BIGINT REFERENCES committee_meetings(id),
  expires_at TIMESTAMPTZ NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  used_at TIMESTAMPTZ,
  used_decision TEXT CHECK (used_decision IN ('approve', 'reject')),
  CONSTRAINT vote_links_once_key UNIQUE NULLS NOT DISTINCT (rdm_id, voter_id, recipient_id, revision, meeting_id)
);
CREATE INDEX vote_links_rdm_idx ON vote_links (rdm_id);

-- A member names a substitute for a period; the substitute's vote counts for the member.
CREATE TABLE delegations (
  id BIGSERIAL PRIMARY KEY,
  member_id BIGINT NOT NULL REFERENCES users(id),
  substitute_id BIGINT NOT NULL REFERENCES users(id),
  starts_at TIMESTAMPTZ NOT NULL,
  ends_at TIMESTAMPTZ NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  created_by BIGINT NOT NULL REFERENCES users(id),
  created_at TIMESTAMPTZ NOT NULL,
  revoked_at TIMESTAMPTZ,
  revoked_by BIGINT REFERENCES users(id),
  CONSTRAINT delegations_period CHECK (ends_at > starts_at),
  CONSTRAINT delegations_not_self CHECK (member_id <> substitute_id)
);
CREATE INDEX delegations_member_idx ON delegations (member_id, starts_at);
CREATE INDEX delegations_substitute_idx ON delegations (substitute_id, starts_at);

-- Who actually cast a vote (a substitute) and through which channel.
ALTER TABLE rdm_votes
  ADD COLUMN cast_by BIGINT REFERENCES users(id),
  ADD COLUMN channel TEXT NOT NULL DEFAULT 'api' CHECK (channel IN ('api', 'email'));

-- The calendar's own clock: the agenda freezes at the cut-off; holidays are flagged ahead.
ALTER TABLE committee_meetings
  ADD COLUMN agenda_frozen_at TIMESTAMPTZ,
  ADD COLUMN holiday_flagged_at TIMESTAMPTZ;

ALTER TABLE calendar_policies
  -- How many days ahead a meeting on a holiday is flagged to the change managers.
  ADD COLUMN holiday_notice_days INTEGER NOT NULL DEFAULT 14 CHECK (holiday_notice_days BETWEEN 1 AND 90),
  -- How long the CME's e-mail links stay valid.
  ADD COLUMN cme_vote_hours INTEGER NOT NULL DEFAULT 24 CHECK (cme_vote_hours BETWEEN 1 AND 168);

-- A window flex counts once every CM member approves it (consensual); one rejection refuses it.
CREATE TABLE window_flex_votes (
  flex_id BIGINT NOT NULL REFERENCES window_flexes(id),
  voter_id BIGINT NOT NULL REFERENCES users(id),
  decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
  reason TEXT,
  at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (flex_id, voter_id)
);
