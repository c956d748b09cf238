-- Facts are only ever appended, so a day's totals change only when a new fact falls on it:
-- those days are recomputed.
DELETE FROM warehouse.agg_daily_sales
WHERE date_key IN (SELECT date_key FROM warehouse_new_sales)
