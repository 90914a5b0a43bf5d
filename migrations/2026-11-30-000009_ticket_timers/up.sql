-- The auto-close timer closes due tickets in batches (`tickets::timers::CLOSE_DUE`): this
-- index holds only resolved tickets, in the order they fall due, so a pass reads what is due
-- and nothing else, whatever the table's size.
CREATE INDEX tickets_auto_close_idx ON tickets (auto_close_at, id) WHERE state = 'resolved';

-- An analyst's list without a state filter ("my tickets") in id order: the (assignee_id,
-- state, id) index cannot give that order (bench/README.md, "Tickets at scale").
CREATE INDEX tickets_assignee_order_idx ON tickets (assignee_id, id DESC) WHERE assignee_id IS NOT NULL;
