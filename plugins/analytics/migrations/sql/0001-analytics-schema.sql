-- The analytics schema (summaries, and the triggers on warehouse.fact_sales that mark them stale).
-- As release 0.1.0 of the daemon left it, squashed from that release's global migrations
-- 0001-0021 (git has them, and the reason for every change). A database migrated by that release
-- has all of it: there the migrator records this migration as applied instead of running it
-- (docs/plugins.md, "Migrations").

CREATE SCHEMA analytics;

CREATE FUNCTION analytics.mark_summaries_stale() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  IF current_setting('warehouse.fact_changes_logged', true) = 'on' THEN
    RETURN NULL;
  END IF;
  UPDATE analytics.summary_state SET stale = true WHERE NOT stale;
  RETURN NULL;
END;
$$;

CREATE UNLOGGED TABLE analytics.customer_sales (
    customer_id text NOT NULL,
    first_date_key integer NOT NULL,
    last_date_key integer NOT NULL,
    transactions bigint NOT NULL,
    units_bought bigint NOT NULL,
    spend numeric NOT NULL,
    profit numeric NOT NULL
);

CREATE UNLOGGED TABLE analytics.customer_version_sales (
    customer_key bigint NOT NULL,
    first_date_key integer NOT NULL,
    last_date_key integer NOT NULL,
    transactions bigint NOT NULL,
    units_bought bigint NOT NULL,
    revenue numeric NOT NULL,
    profit numeric NOT NULL
);

CREATE UNLOGGED TABLE analytics.daily_category_transactions (
    date_key integer NOT NULL,
    category text,
    transactions bigint NOT NULL
);

CREATE UNLOGGED TABLE analytics.daily_discount_band_sales (
    date_key integer NOT NULL,
    band_order integer NOT NULL,
    line_items bigint NOT NULL,
    transactions bigint NOT NULL,
    units_sold bigint NOT NULL,
    gross_amount numeric NOT NULL,
    discount_amount numeric NOT NULL,
    line_total numeric NOT NULL,
    profit numeric NOT NULL
);

CREATE UNLOGGED TABLE analytics.daily_payment_sales (
    date_key integer NOT NULL,
    payment_method_key integer NOT NULL,
    transactions bigint NOT NULL,
    units_sold bigint NOT NULL,
    revenue numeric NOT NULL,
    profit numeric NOT NULL
);

CREATE UNLOGGED TABLE analytics.monthly_customers (
    month_key integer NOT NULL,
    customer_id text NOT NULL COLLATE pg_catalog."C"
);

CREATE UNLOGGED TABLE analytics.product_categories (
    product_key bigint NOT NULL,
    category text
);

CREATE UNLOGGED TABLE analytics.product_sales (
    product_id text NOT NULL,
    units_sold bigint NOT NULL,
    transactions bigint NOT NULL,
    revenue numeric NOT NULL,
    profit numeric NOT NULL,
    discount_total numeric NOT NULL
);

CREATE UNLOGGED TABLE analytics.product_version_sales (
    product_key bigint NOT NULL,
    units_sold bigint NOT NULL,
    transactions bigint NOT NULL,
    revenue numeric NOT NULL,
    profit numeric NOT NULL,
    discount_total numeric NOT NULL
);

CREATE UNLOGGED TABLE analytics.summary_state (
    singleton boolean DEFAULT true NOT NULL,
    last_sales_key bigint NOT NULL,
    stale boolean DEFAULT false NOT NULL,
    refreshed_at timestamp with time zone DEFAULT now() NOT NULL,
    last_change_id bigint DEFAULT 0 NOT NULL,
    CONSTRAINT summary_state_singleton_check CHECK (singleton)
);

CREATE UNLOGGED TABLE analytics.transactions (
    transaction_id text NOT NULL COLLATE pg_catalog."C",
    date_key integer NOT NULL,
    customer_key bigint NOT NULL,
    payment_method_key integer NOT NULL
);

ALTER TABLE ONLY analytics.customer_sales
    ADD CONSTRAINT customer_sales_pkey PRIMARY KEY (customer_id);

ALTER TABLE ONLY analytics.customer_version_sales
    ADD CONSTRAINT customer_version_sales_pkey PRIMARY KEY (customer_key);

ALTER TABLE ONLY analytics.daily_category_transactions
    ADD CONSTRAINT daily_category_transactions_key UNIQUE NULLS NOT DISTINCT (date_key, category);

ALTER TABLE ONLY analytics.daily_discount_band_sales
    ADD CONSTRAINT daily_discount_band_sales_pkey PRIMARY KEY (date_key, band_order);

ALTER TABLE ONLY analytics.daily_payment_sales
    ADD CONSTRAINT daily_payment_sales_pkey PRIMARY KEY (date_key, payment_method_key);

ALTER TABLE ONLY analytics.monthly_customers
    ADD CONSTRAINT monthly_customers_pkey PRIMARY KEY (month_key, customer_id);

ALTER TABLE ONLY analytics.product_categories
    ADD CONSTRAINT product_categories_pkey PRIMARY KEY (product_key);

ALTER TABLE ONLY analytics.product_sales
    ADD CONSTRAINT product_sales_pkey PRIMARY KEY (product_id);

ALTER TABLE ONLY analytics.product_version_sales
    ADD CONSTRAINT product_version_sales_pkey PRIMARY KEY (product_key);

ALTER TABLE ONLY analytics.summary_state
    ADD CONSTRAINT summary_state_pkey PRIMARY KEY (singleton);

ALTER TABLE ONLY analytics.transactions
    ADD CONSTRAINT transactions_pkey PRIMARY KEY (transaction_id);

-- Facts changed other than by the warehouse's appends mark the summaries stale. Not on a Citus
-- cluster: a trigger on the distributed fact_sales would run on the workers' shards, where
-- analytics' tables do not exist; there the summaries compare totals instead (summaries/state.sql).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    CREATE TRIGGER fact_sales_changed_mark_analytics_stale AFTER DELETE OR UPDATE ON warehouse.fact_sales FOR EACH STATEMENT EXECUTE FUNCTION analytics.mark_summaries_stale();
    CREATE TRIGGER fact_sales_truncated_mark_analytics_stale AFTER TRUNCATE ON warehouse.fact_sales FOR EACH STATEMENT EXECUTE FUNCTION analytics.mark_summaries_stale();
  END IF;
END $$;
