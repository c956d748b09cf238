-- Reconciliation of the facts about to be inserted: line totals recomputed, transaction totals that
-- differ from the sum of their items (corrected on insert), and the ids of both (the first $1).
WITH new_transactions AS (
  SELECT t.transaction_id, t.total_amount, tt.items_total
  FROM etl_transactions t
  LEFT JOIN etl_transaction_totals tt ON tt.transaction_id = t.transaction_id
  WHERE t.reason IS NULL AND t.action = 'insert'
)
SELECT
  (SELECT coalesce(sum(corrected_line_count), 0) FROM etl_transaction_totals)::int AS line_totals_corrected,
  (SELECT coalesce(array_agg(item_id ORDER BY item_id COLLATE "C"), '{}')
     FROM (SELECT item_id FROM etl_transaction_items
           WHERE line_total_corrected AND reason IS NULL AND action = 'insert'
           ORDER BY item_id COLLATE "C" LIMIT $1) x) AS line_total_ids,
  (SELECT count(*) FROM new_transactions WHERE items_total <> total_amount)::int AS totals_corrected,
  (SELECT coalesce(array_agg(transaction_id ORDER BY transaction_id COLLATE "C"), '{}')
     FROM (SELECT transaction_id FROM new_transactions WHERE items_total <> total_amount
           ORDER BY transaction_id COLLATE "C" LIMIT $1) x) AS total_ids,
  (SELECT count(*) FROM new_transactions WHERE items_total IS NULL)::int AS transactions_without_items,
  (SELECT coalesce(sum(tt.item_count), 0) FROM etl_transaction_totals tt
     WHERE NOT EXISTS (SELECT 1 FROM new_transactions t WHERE t.transaction_id = tt.transaction_id))::int
    AS items_added_to_existing_transactions
