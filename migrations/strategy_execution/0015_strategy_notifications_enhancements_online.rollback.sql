-- Rollback of 0015_strategy_notifications_enhancements_online: nothing; in its own place (after 0014) it changed nothing.
-- Where it ran in 0007's place, 0007 is recorded and 0007's rollback undoes it.

select 1 as nothing_to_undo;
