-- Rollback of 0013_automations_account_access_lock_order: nothing; in its own place (after 0002)
-- it changed nothing. Where it ran in 0002's place, 0002 is recorded and 0002's rollback undoes it.
-- Source: issue 16 (production rehearsal).

select 1 as nothing_to_undo;
