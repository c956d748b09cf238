-- What the refresh must recompute: the keys of the facts appended since the summaries were last
-- refreshed or rebuilt, the keys the warehouse's other changes to facts touched (moved to another
-- version, corrected, removed: warehouse.fact_changes), and the days on which a product sold
-- whose category was corrected in place since its days were counted.
CREATE TEMP TABLE analytics_new_facts ON COMMIT DROP AS
SELECT f.transaction_id, f.date_key, f.customer_key, f.product_key, f.payment_method_key,
       f.quantity, f.line_total, f.profit, f.discount_amount
FROM warehouse.fact_sales f
WHERE f.sales_key > (SELECT last_sales_key FROM analytics.summary_state);

-- Facts the warehouse changed since the summaries last followed it, as they were (its log) and,
-- for the ones still there, as they are. Usually none: a daily run in date order only appends.
CREATE TEMP TABLE analytics_changed_facts ON COMMIT DROP AS
SELECT c.transaction_id COLLATE "C" AS transaction_id, c.date_key, c.customer_key, c.customer_id COLLATE "C" AS customer_id,
       c.product_key, c.product_id COLLATE "C" AS product_id
FROM warehouse.fact_changes c
WHERE c.change_id > (SELECT last_change_id FROM analytics.summary_state)
UNION
SELECT f.transaction_id, f.date_key, f.customer_key, dc.customer_id, f.product_key, dp.product_id
FROM warehouse.fact_changes c
JOIN warehouse.fact_sales f ON f.sales_key = c.sales_key
JOIN warehouse.dim_customers dc ON dc.customer_key = f.customer_key
JOIN warehouse.dim_products dp ON dp.product_key = f.product_key
WHERE c.change_id > (SELECT last_change_id FROM analytics.summary_state);
ANALYZE analytics_changed_facts;

CREATE TEMP TABLE analytics_touched_customers ON COMMIT DROP AS
SELECT customer_key FROM analytics_new_facts
UNION
SELECT customer_key FROM analytics_changed_facts;

CREATE TEMP TABLE analytics_touched_products ON COMMIT DROP AS
SELECT product_key FROM analytics_new_facts
UNION
SELECT product_key FROM analytics_changed_facts;

-- Product versions recategorised in place since their days were counted: usually none, and
-- analysed as such, so that their facts are then found through the product_key index rather
-- than by joining every fact.
CREATE TEMP TABLE analytics_recategorised_products ON COMMIT DROP AS
SELECT c.product_key
FROM analytics.product_categories c
JOIN warehouse.dim_products p ON p.product_key = c.product_key
WHERE p.category IS DISTINCT FROM c.category;
ANALYZE analytics_recategorised_products;

CREATE TEMP TABLE analytics_touched_days ON COMMIT DROP AS
SELECT date_key FROM analytics_new_facts
UNION
SELECT date_key FROM analytics_changed_facts
UNION
SELECT f.date_key
FROM warehouse.fact_sales f
WHERE f.product_key IN (SELECT product_key FROM analytics_recategorised_products);

ANALYZE analytics_new_facts, analytics_touched_customers, analytics_touched_products, analytics_touched_days;

-- Late lines: new facts of transactions counted before (analytics.transactions holds every
-- transaction the summaries count, until the INSERT below adds the new ones). Usually none; the
-- versions they touch, and every version a changed fact was or is on, are recounted from all
-- their facts (refresh-summaries.sql); every other touched version only adds its new facts.
CREATE TEMP TABLE analytics_late_transactions ON COMMIT DROP AS
SELECT DISTINCT n.transaction_id
FROM analytics_new_facts n
JOIN analytics.transactions t ON t.transaction_id = n.transaction_id;

CREATE TEMP TABLE analytics_recount_customers ON COMMIT DROP AS
SELECT customer_key FROM analytics_new_facts
WHERE transaction_id IN (SELECT transaction_id FROM analytics_late_transactions)
UNION
SELECT customer_key FROM analytics_changed_facts;

CREATE TEMP TABLE analytics_recount_products ON COMMIT DROP AS
SELECT product_key FROM analytics_new_facts
WHERE transaction_id IN (SELECT transaction_id FROM analytics_late_transactions)
UNION
SELECT product_key FROM analytics_changed_facts;

-- Usually empty, and analysed as such: the recount then finds nothing to read.
ANALYZE analytics_recount_customers, analytics_recount_products;

-- Transactions a changed fact belongs to: their date, customer version and payment method again,
-- from their lines (all of a transaction's lines share them, so they sit under the same customer
-- version and date key, which the fact table's index finds); a transaction left without lines
-- goes.
DELETE FROM analytics.transactions
WHERE transaction_id IN (SELECT transaction_id FROM analytics_changed_facts);
INSERT INTO analytics.transactions (transaction_id, date_key, customer_key, payment_method_key)
SELECT DISTINCT f.transaction_id, f.date_key, f.customer_key, f.payment_method_key
FROM analytics_changed_facts c
JOIN warehouse.fact_sales f
  ON f.customer_key = c.customer_key AND f.date_key = c.date_key AND f.transaction_id = c.transaction_id
ON CONFLICT (transaction_id) DO NOTHING;

-- Transactions: the new facts' date, customer version and payment method per transaction.
-- A transaction's lines that disagree leave a second row here, which check-transactions.sql reports.
INSERT INTO analytics.transactions (transaction_id, date_key, customer_key, payment_method_key)
SELECT DISTINCT transaction_id, date_key, customer_key, payment_method_key
FROM analytics_new_facts
ON CONFLICT (transaction_id) DO NOTHING;
