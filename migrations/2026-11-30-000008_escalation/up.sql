-- Escalation and on-call (SPEC §4.4), as data: policies with levels (trigger: a share of the
-- first-response or resolution target elapsed; target: a queue's team, a role, a user, or
-- whoever is on call for a team), the policy each item uses for which priorities, a ticket's
-- escalation level, on-call rotations and overrides.
CREATE TABLE escalation_policies (
  id BIGSERIAL PRIMARY KEY,
  code TEXT NOT NULL CONSTRAINT escalation_policies_code_key UNIQUE,
  name TEXT NOT NULL,
  -- The priorities it applies to (critical incidents always escalate; others may).
  priorities priority[] NOT NULL CHECK (cardinality(priorities) > 0)
);

CREATE TABLE escalation_levels (
  policy_id BIGINT NOT NULL REFERENCES escalation_policies(id) ON DELETE CASCADE,
  level INTEGER NOT NULL CHECK (level > 0),
  clock TEXT NOT NULL CHECK (clock IN ('first_response', 'resolution')),
  -- Share of the target elapsed, in percent (50 = half the target).
  threshold_percent INTEGER NOT NULL CHECK (threshold_percent > 0 AND threshold_percent <= 1000),
  target_kind TEXT NOT NULL CHECK (target_kind IN ('queue', 'role', 'user', 'on_call')),
  -- queue: a queue (null: the ticket's own); role: a role; user: a user; on_call: a team.
  target_queue_id BIGINT REFERENCES queues(id),
  target_role user_role,
  target_user_id BIGINT REFERENCES users(id),
  target_team team,
  PRIMARY KEY (policy_id, level),
  CONSTRAINT escalation_levels_target CHECK (
    (target_kind = 'queue' AND target_role IS NULL AND target_user_id IS NULL AND target_team IS NULL)
    OR (target_kind = 'role' AND target_role IS NOT NULL)
    OR (target_kind = 'user' AND target_user_id IS NOT NULL)
    OR (target_kind = 'on_call' AND target_team IS NOT NULL))
);

ALTER TABLE support_items ADD COLUMN escalation_policy_id BIGINT REFERENCES escalation_policies(id);
ALTER TABLE tickets ADD COLUMN escalation_policy_id BIGINT REFERENCES escalation_policies(id),
  ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;

-- Members take turns, handing over every period_days from anchor; the rotation covers
-- always, outside its calendar's business hours (stand-by), or a weekly window.
CREATE TABLE oncall_rotations (
  id BIGSERIAL PRIMARY KEY,
  team team NOT NULL,
  name TEXT NOT NULL,
  -- Lower first: the first rotation covering an instant decides.
  position INTEGER NOT NULL,
  calendar_id BIGINT NOT NULL REFERENCES calendars(id),
  members BIGINT[] NOT NULL CHECK (cardinality(members) > 0),
  anchor TIMESTAMPTZ NOT NULL,
  period_days INTEGER NOT NULL DEFAULT 7 CHECK (period_days > 0),
  coverage TEXT NOT NULL CHECK (coverage IN ('always', 'outside_business_hours', 'weekly')),
  window_weekday TEXT CHECK (window_weekday IN ('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday')),
  window_start TEXT CHECK (window_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  window_minutes INTEGER CHECK (window_minutes > 0),
  CONSTRAINT oncall_rotations_window CHECK (
    (coverage = 'weekly') = (window_weekday IS NOT NULL AND window_start IS NOT NULL AND window_minutes IS NOT NULL)),
  CONSTRAINT oncall_rotations_position_key UNIQUE (team, position)
);

CREATE TABLE oncall_overrides (
  id BIGSERIAL PRIMARY KEY,
  team team NOT NULL,
  user_id BIGINT NOT NULL REFERENCES users(id),
  starts_at TIMESTAMPTZ NOT NULL,
  ends_at TIMESTAMPTZ NOT NULL,
  reason TEXT NOT NULL CHECK (btrim(reason) <> ''),
  created_by BIGINT NOT NULL REFERENCES users(id),
  created_at TIMESTAMPTZ NOT NULL,
  CONSTRAINT oncall_overrides_period CHECK (starts_at < ends_at)
);
CREATE INDEX oncall_overrides_team_idx ON oncall_overrides (team, ends_at);
