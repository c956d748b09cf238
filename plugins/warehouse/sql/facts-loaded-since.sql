-- When the latest run that added facts started (its facts' created_at is that transaction's
-- now()); NULL while fact_sales is empty. See the README, "What counts as new".
SELECT max(created_at)::text AS since FROM warehouse.fact_sales
