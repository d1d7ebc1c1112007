-- Rollback of 0009_alm_duplicate_prevention_online: nothing; in its own place (after 0008) it changed nothing.
-- Where it ran in 0002's place, 0002 is recorded and 0002's rollback undoes it.

select 1 as nothing_to_undo;
