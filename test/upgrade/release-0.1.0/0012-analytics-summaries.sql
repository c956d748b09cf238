-- Summaries the analytics stage keeps of warehouse.fact_sales, so that a daily run reads what the
-- day added instead of all history. They are derived data: the stage rebuilds them from the facts
-- whenever they cannot be trusted (first run, or facts changed other than by appending).
-- Each summary is keyed by what never changes under it (a dimension's surrogate key, a date key,
-- a natural id); the attributes a query shows (category, state, names) are joined when it runs.
CREATE SCHEMA IF NOT EXISTS analytics;

-- How far the summaries follow the facts: every fact with sales_key <= last_sales_key is in them.
-- stale: the facts changed other than by appending since then (see the trigger below).
CREATE UNLOGGED TABLE analytics.summary_state (
  singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_sales_key bigint NOT NULL,
  stale          boolean NOT NULL DEFAULT false,
  refreshed_at   timestamptz NOT NULL DEFAULT now()
);

-- The date, customer version and payment method of each transaction. Text keys here sort in
-- byte order ("C"): cheaper than the database collation, and equal exactly when equal. Every line of a transaction
-- carries its transaction's (the warehouse takes them from it); the summaries add transactions
-- up across days and versions on that ground, so a line that disagrees is refused, not counted.
CREATE UNLOGGED TABLE analytics.transactions (
  transaction_id     text COLLATE "C" PRIMARY KEY,
  date_key           int NOT NULL,
  customer_key       bigint NOT NULL,
  payment_method_key int NOT NULL
);

CREATE UNLOGGED TABLE analytics.customer_version_sales (
  customer_key   bigint PRIMARY KEY,
  first_date_key int NOT NULL,
  last_date_key  int NOT NULL,
  transactions   bigint NOT NULL,
  units_bought   bigint NOT NULL,
  revenue        numeric NOT NULL,
  profit         numeric NOT NULL
);

CREATE UNLOGGED TABLE analytics.product_version_sales (
  product_key    bigint PRIMARY KEY,
  units_sold     bigint NOT NULL,
  transactions   bigint NOT NULL,
  revenue        numeric NOT NULL,
  profit         numeric NOT NULL,
  discount_total numeric NOT NULL
);

-- Per natural id, every SCD2 version added up (a transaction resolves to one version of a
-- member, so its transactions add up over versions): what queries 1, 3, 7 and 8 list.
CREATE UNLOGGED TABLE analytics.customer_sales (
  customer_id    text PRIMARY KEY,
  first_date_key int NOT NULL,
  last_date_key  int NOT NULL,
  transactions   bigint NOT NULL,
  units_bought   bigint NOT NULL,
  spend          numeric NOT NULL,
  profit         numeric NOT NULL
);

CREATE UNLOGGED TABLE analytics.product_sales (
  product_id     text PRIMARY KEY,
  units_sold     bigint NOT NULL,
  transactions   bigint NOT NULL,
  revenue        numeric NOT NULL,
  profit         numeric NOT NULL,
  discount_total numeric NOT NULL
);

CREATE UNLOGGED TABLE analytics.daily_payment_sales (
  date_key           int NOT NULL,
  payment_method_key int NOT NULL,
  transactions       bigint NOT NULL,
  units_sold         bigint NOT NULL,
  revenue            numeric NOT NULL,
  profit             numeric NOT NULL,
  PRIMARY KEY (date_key, payment_method_key)
);

CREATE UNLOGGED TABLE analytics.daily_discount_band_sales (
  date_key        int NOT NULL,
  band_order      int NOT NULL,
  line_items      bigint NOT NULL,
  transactions    bigint NOT NULL,
  units_sold      bigint NOT NULL,
  gross_amount    numeric NOT NULL,
  discount_amount numeric NOT NULL,
  line_total      numeric NOT NULL,
  profit          numeric NOT NULL,
  PRIMARY KEY (date_key, band_order)
);

-- Transactions per day and category as the product versions had it when counted; a category
-- corrected in place is noticed against analytics.product_categories and its days recounted.
CREATE UNLOGGED TABLE analytics.daily_category_transactions (
  date_key     int NOT NULL,
  category     text,
  transactions bigint NOT NULL,
  CONSTRAINT daily_category_transactions_key UNIQUE NULLS NOT DISTINCT (date_key, category)
);

CREATE UNLOGGED TABLE analytics.product_categories (
  product_key bigint PRIMARY KEY,
  category    text
);

-- Which customers (natural ids) bought in which month (yyyymm), for distinct customers per month.
CREATE UNLOGGED TABLE analytics.monthly_customers (
  month_key   int NOT NULL,
  customer_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (month_key, customer_id)
);

-- Facts are append-only. Anything else done to them (an UPDATE, a DELETE such as an erasure
-- request, a TRUNCATE before a reload) marks the summaries stale, in the same transaction, and
-- the next analytics run rebuilds them. Statement-level: a bulk statement costs one call.
CREATE FUNCTION analytics.mark_summaries_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE analytics.summary_state SET stale = true WHERE NOT stale;
  RETURN NULL;
END;
$$;

CREATE TRIGGER fact_sales_changed_mark_analytics_stale
  AFTER UPDATE OR DELETE ON warehouse.fact_sales
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.mark_summaries_stale();
CREATE TRIGGER fact_sales_truncated_mark_analytics_stale
  AFTER TRUNCATE ON warehouse.fact_sales
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.mark_summaries_stale();
