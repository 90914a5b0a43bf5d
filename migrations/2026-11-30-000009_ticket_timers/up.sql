-- The auto-close timer closes due tickets in batches (`tickets::timers::CLOSE_DUE`): this
-- index holds only resolved tickets, in the order they fall due, so a pass reads what is due
-- and nothing else, whatever the table's size.
CREATE INDEX tickets_auto_close_idx ON tickets (auto_close_at, id) WHERE state = 'resolved';
