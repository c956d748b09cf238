-- Memory for this transaction's hash joins and aggregates (ids of a whole batch), so they do not
-- spill to disk in batches; reset at commit or rollback.
SELECT set_config('work_mem', $1::text, true)
