-- What the refresh must recompute: the keys of the facts appended since the summaries were last
-- refreshed or rebuilt, and the days on which a product sold whose category was corrected in
-- place since its days were counted.
CREATE TEMP TABLE analytics_new_facts ON COMMIT DROP AS
SELECT f.transaction_id, f.date_key, f.customer_key, f.product_key, f.payment_method_key,
       f.quantity, f.line_total, f.profit, f.discount_amount
FROM warehouse.fact_sales f
WHERE f.sales_key > (SELECT last_sales_key FROM analytics.summary_state);

CREATE TEMP TABLE analytics_touched_customers ON COMMIT DROP AS
SELECT DISTINCT customer_key FROM analytics_new_facts;

CREATE TEMP TABLE analytics_touched_products ON COMMIT DROP AS
SELECT DISTINCT product_key FROM analytics_new_facts;

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
SELECT f.date_key
FROM warehouse.fact_sales f
WHERE f.product_key IN (SELECT product_key FROM analytics_recategorised_products);

ANALYZE analytics_new_facts, analytics_touched_customers, analytics_touched_products, analytics_touched_days;

-- Late lines: new facts of transactions counted before (analytics.transactions holds every
-- transaction the summaries count, until the INSERT below adds the new ones). Usually none; the
-- versions they touch are recounted from all their facts (refresh-summaries.sql), every other
-- touched version only adds its new facts.
CREATE TEMP TABLE analytics_late_transactions ON COMMIT DROP AS
SELECT DISTINCT n.transaction_id
FROM analytics_new_facts n
JOIN analytics.transactions t ON t.transaction_id = n.transaction_id;

CREATE TEMP TABLE analytics_recount_customers ON COMMIT DROP AS
SELECT DISTINCT customer_key FROM analytics_new_facts
WHERE transaction_id IN (SELECT transaction_id FROM analytics_late_transactions);

CREATE TEMP TABLE analytics_recount_products ON COMMIT DROP AS
SELECT DISTINCT product_key FROM analytics_new_facts
WHERE transaction_id IN (SELECT transaction_id FROM analytics_late_transactions);

-- Usually empty, and analysed as such: the recount then finds nothing to read.
ANALYZE analytics_recount_customers, analytics_recount_products;

-- Transactions: the new facts' date, customer version and payment method per transaction.
-- A transaction's lines that disagree leave a second row here, which check-transactions.sql reports.
INSERT INTO analytics.transactions (transaction_id, date_key, customer_key, payment_method_key)
SELECT DISTINCT transaction_id, date_key, customer_key, payment_method_key
FROM analytics_new_facts
ON CONFLICT (transaction_id) DO NOTHING;
