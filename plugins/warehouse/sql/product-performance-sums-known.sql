-- Whether the per-version sums can be added to. Facts exist on this path, so empty sums mean the
-- trigger of migration 0013 emptied them: the facts changed other than by appending.
-- On a Citus cluster that trigger cannot exist (migration 1764100030000): there the sums can be
-- added to when, with this run's changes (warehouse_fact_delta), their totals are the facts'
-- totals. A change by hand that keeps every total (a fact moved between products with nothing
-- else changed) goes unseen there; docs/operations.md says so. With the trigger, the comparison
-- is never evaluated (a CASE branch not taken), so plain PostgreSQL reads no fact here.
SELECT EXISTS (SELECT 1 FROM warehouse.product_performance_sums)
       AND CASE
             WHEN EXISTS (SELECT 1 FROM pg_trigger
                          WHERE tgrelid = 'warehouse.fact_sales'::regclass
                            AND tgname = 'fact_sales_changed_forget_product_sums') THEN true
             ELSE (SELECT s.lines + d.lines = f.lines AND s.quantity + d.quantity = f.quantity
                          AND s.line_total + d.line_total = f.line_total AND s.profit + d.profit = f.profit
                          AND s.discount + d.discount = f.discount
                   FROM (SELECT coalesce(sum(line_count), 0) AS lines, coalesce(sum(quantity_sum), 0) AS quantity,
                                coalesce(sum(line_total_sum), 0) AS line_total, coalesce(sum(profit_sum), 0) AS profit,
                                coalesce(sum(discount_percentage_sum), 0) AS discount
                         FROM warehouse.product_performance_sums) s,
                        (SELECT coalesce(sum(sign), 0) AS lines, coalesce(sum(sign * quantity), 0) AS quantity,
                                coalesce(sum(sign * line_total), 0) AS line_total, coalesce(sum(sign * profit), 0) AS profit,
                                coalesce(sum(sign * discount_percentage), 0) AS discount
                         FROM warehouse_fact_delta) d,
                        (SELECT count(*) AS lines, coalesce(sum(quantity), 0) AS quantity,
                                coalesce(sum(line_total), 0) AS line_total, coalesce(sum(profit), 0) AS profit,
                                coalesce(sum(discount_percentage), 0) AS discount
                         FROM warehouse.fact_sales) f)
           END AS known
