-- Facts are only ever appended, so a day's totals change only when a new fact falls on it:
-- those days are recomputed ($1 = true: all of them).
DELETE FROM warehouse.agg_daily_sales
WHERE $1::boolean OR date_key IN (SELECT date_key FROM warehouse_new_sales)
