-- Facts whose item left production (withdrawn by a redo of its business date).
DELETE FROM warehouse.fact_sales f
USING warehouse_fact_targets t
WHERE t.action = 'delete' AND f.sales_key = t.sales_key
