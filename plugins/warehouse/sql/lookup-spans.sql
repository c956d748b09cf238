-- What a sale's keys and profit are looked up in, for the members of the target sales (or of all
-- of them on a first load, $1 = true). A sale gets the version of its customer and of its
-- product that started last on or before its date: the version valid then, or, if the member
-- was absent from the source that day, the one it had when it left (README, "Facts"). So each
-- version spans from its start (the first one from -infinity) to the next version's start; held
-- versions this run retires are left out.
CREATE TEMP TABLE warehouse_customer_spans ON COMMIT DROP AS
SELECT v.customer_id,
       v.customer_key,
       CASE WHEN lag(v.effective_date) OVER w IS NULL THEN DATE '-infinity' ELSE v.effective_date END AS from_date,
       coalesce(lead(v.effective_date) OVER w, DATE 'infinity') AS to_date
FROM warehouse.dim_customers v
WHERE ($1::boolean OR v.customer_id IN (SELECT customer_id FROM warehouse_target_sales))
  AND NOT EXISTS (SELECT 1 FROM warehouse_customers_diff d WHERE d.customer_key = v.customer_key AND NOT d.wanted)
WINDOW w AS (PARTITION BY v.customer_id ORDER BY v.effective_date);
