DROP INDEX tickets_auto_close_idx;
