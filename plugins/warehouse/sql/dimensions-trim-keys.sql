-- After facts were removed: days outside the span of production's transaction dates, and
-- payment methods no production transaction uses, that no fact refers to any more. dim_date
-- covers the transactions' span and the payment methods their names, whatever loaded and
-- withdrew them before. Read here and deleted by key (dimensions-trim.sql): on a Citus cluster a
-- reference table cannot be modified by a statement that reads local or distributed tables.
SELECT coalesce((SELECT array_agg(d.date_key ORDER BY d.date_key)
                 FROM warehouse.dim_date d
                 WHERE (d.full_date < coalesce((SELECT min(transaction_date) FROM production.transactions), 'infinity')
                        OR d.full_date > coalesce((SELECT max(transaction_date) FROM production.transactions), '-infinity'))
                   AND NOT EXISTS (SELECT 1 FROM warehouse.fact_sales f WHERE f.date_key = d.date_key)), '{}') AS date_keys,
       coalesce((SELECT array_agg(m.payment_method_key ORDER BY m.payment_method_key)
                 FROM warehouse.dim_payment_method m
                 WHERE m.payment_method_name NOT IN (SELECT DISTINCT payment_method FROM production.transactions)
                   AND NOT EXISTS (SELECT 1 FROM warehouse.fact_sales f WHERE f.payment_method_key = m.payment_method_key)), '{}') AS payment_method_keys
