-- The inbox rows this run applied (dirty-members-collect.sql): none arrives meanwhile, since
-- runs hold the run lock and this stage the warehouse lock.
DELETE FROM production.member_changes
