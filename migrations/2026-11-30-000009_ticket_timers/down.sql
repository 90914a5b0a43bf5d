DROP INDEX tickets_assignee_order_idx;
DROP INDEX tickets_auto_close_idx;
