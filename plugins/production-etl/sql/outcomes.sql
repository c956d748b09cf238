-- Staged rows per table by outcome: a reject reason, or (accepted) the action taken on production.
SELECT 'customers' AS table_name, reason, action, count(*)::int AS row_count FROM etl_customers GROUP BY reason, action
UNION ALL
SELECT 'products', reason, action, count(*)::int FROM etl_products GROUP BY reason, action
UNION ALL
SELECT 'transactions', reason, action, count(*)::int FROM etl_transactions GROUP BY reason, action
UNION ALL
SELECT 'transaction_items', reason, action, count(*)::int FROM etl_transaction_items GROUP BY reason, action
