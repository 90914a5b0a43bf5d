DROP TABLE window_flex_votes;
ALTER TABLE calendar_policies DROP COLUMN cme_vote_hours, DROP COLUMN holiday_notice_days;
ALTER TABLE committee_meetings DROP COLUMN holiday_flagged_at, DROP COLUMN agenda_frozen_at;
ALTER TABLE rdm_votes DROP COLUMN channel, DROP COLUMN cast_by;
DROP TABLE delegations;
DROP TABLE vote_links;
DROP TABLE server_secrets;
DROP TABLE jobs;
