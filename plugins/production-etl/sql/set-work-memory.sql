-- Memory for this transaction's hash joins and aggregates (ids of a whole batch), so they do not
-- spill to disk in batches, and for the sorts of a bulk load's key and index rebuilds (also used
-- by the foreign-key re-validation); both reset at commit or rollback.
SELECT set_config('work_mem', $1::text, true), set_config('maintenance_work_mem', $2::text, true)
