DROP TABLE ticket_rdm_links;
DROP TABLE ticket_contact_attempts;
DROP TABLE ticket_links;
DROP TABLE ticket_comments;
DROP TABLE tickets;
DROP TYPE ticket_kind;
DROP TYPE ticket_state;
DROP TABLE ticket_settings;
DROP TABLE routing_rules;
DROP TABLE contracts;
DROP TABLE team_olas;
DROP TABLE sla_targets;
DROP TABLE support_items;
DROP TABLE queues;
ALTER TABLE organizations DROP COLUMN calendar_id;
DROP TABLE calendar_includes;
DROP TABLE holiday_rules;
-- 'ticket' stays in entity_kind: PostgreSQL cannot drop an enum value (events may name it).
