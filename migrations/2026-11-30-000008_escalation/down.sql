DROP TABLE oncall_overrides;
DROP TABLE oncall_rotations;
ALTER TABLE tickets DROP COLUMN escalation_level, DROP COLUMN escalation_policy_id;
ALTER TABLE support_items DROP COLUMN escalation_policy_id;
DROP TABLE escalation_levels;
DROP TABLE escalation_policies;
