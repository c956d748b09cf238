-- After facts were removed: days outside the span of production's transaction dates, and
-- payment methods no production transaction uses, that no fact refers to any more. dim_date
-- covers the transactions' span and the payment methods their names, whatever loaded and
-- withdrew them before.
DELETE FROM warehouse.dim_date d
WHERE (d.full_date < coalesce((SELECT min(transaction_date) FROM production.transactions), 'infinity')
       OR d.full_date > coalesce((SELECT max(transaction_date) FROM production.transactions), '-infinity'))
  AND NOT EXISTS (SELECT 1 FROM warehouse.fact_sales f WHERE f.date_key = d.date_key);

DELETE FROM warehouse.dim_payment_method m
WHERE m.payment_method_name NOT IN (SELECT DISTINCT payment_method FROM production.transactions)
  AND NOT EXISTS (SELECT 1 FROM warehouse.fact_sales f WHERE f.payment_method_key = m.payment_method_key);
