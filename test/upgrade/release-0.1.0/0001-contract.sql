-- The contract of ../shared/spec/warehouse-contract.md: every schema, table and column users
-- already depend on. Later migrations add; they never rename or drop a contract name.

CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS production;
CREATE SCHEMA IF NOT EXISTS warehouse;
CREATE SCHEMA IF NOT EXISTS pipeline;

-- staging: a landing zone without keys, so duplicates and orphans land and the quality gate finds them.
CREATE TABLE staging.customers (
  customer_id       text,
  first_name        text,
  last_name         text,
  email             text,
  phone             text,
  registration_date date,
  city              text,
  state             text,
  country           text,
  age_group         text,
  loaded_at         timestamp NOT NULL DEFAULT now()
);

CREATE TABLE staging.products (
  product_id     text,
  product_name   text,
  category       text,
  sub_category   text,
  price          numeric(12,2),
  cost           numeric(12,2),
  brand          text,
  stock_quantity int,
  supplier_id    text,
  loaded_at      timestamp NOT NULL DEFAULT now()
);

CREATE TABLE staging.transactions (
  transaction_id   text,
  customer_id      text,
  transaction_date date,
  transaction_time time,
  payment_method   text,
  shipping_address text,
  total_amount     numeric(12,2),
  loaded_at        timestamp NOT NULL DEFAULT now()
);

CREATE TABLE staging.transaction_items (
  item_id             text,
  transaction_id      text,
  product_id          text,
  quantity            int,
  unit_price          numeric(12,2),
  discount_percentage numeric(5,2),
  line_total          numeric(12,2),
  loaded_at           timestamp NOT NULL DEFAULT now()
);

-- production: cleansed, 3NF. Dimensions keep members that left the source (facts refer to them).
CREATE TABLE production.customers (
  customer_id       text PRIMARY KEY,
  first_name        text NOT NULL,
  last_name         text NOT NULL,
  email             text NOT NULL,
  phone             text,
  registration_date date NOT NULL,
  city              text,
  state             text,
  country           text,
  age_group         text,
  is_active         boolean NOT NULL DEFAULT true,
  removed_at        timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  -- Deferred so that two customers may swap addresses within one load.
  CONSTRAINT customers_email_key UNIQUE (email) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE production.products (
  product_id     text PRIMARY KEY,
  product_name   text NOT NULL,
  category       text NOT NULL,
  sub_category   text,
  price          numeric(12,2) NOT NULL,
  cost           numeric(12,2) NOT NULL,
  brand          text,
  stock_quantity int NOT NULL DEFAULT 0,
  supplier_id    text,
  profit_margin  numeric(5,2) NOT NULL,
  price_category text NOT NULL,
  is_active      boolean NOT NULL DEFAULT true,
  removed_at     timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT products_price_check CHECK (price >= 0),
  CONSTRAINT products_cost_check CHECK (cost >= 0),
  CONSTRAINT products_cost_below_price_check CHECK (cost < price),
  CONSTRAINT products_stock_quantity_check CHECK (stock_quantity >= 0)
);

CREATE TABLE production.transactions (
  transaction_id   text PRIMARY KEY,
  customer_id      text NOT NULL,
  transaction_date date NOT NULL,
  transaction_time time,
  payment_method   text NOT NULL,
  shipping_address text,
  total_amount     numeric(12,2) NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT transactions_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES production.customers (customer_id),
  CONSTRAINT transactions_total_amount_check CHECK (total_amount >= 0)
);

CREATE TABLE production.transaction_items (
  item_id             text PRIMARY KEY,
  transaction_id      text NOT NULL,
  product_id          text NOT NULL,
  quantity            int NOT NULL,
  unit_price          numeric(12,2) NOT NULL,
  discount_percentage numeric(5,2) NOT NULL DEFAULT 0,
  line_total          numeric(12,2) NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT transaction_items_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES production.transactions (transaction_id),
  CONSTRAINT transaction_items_product_id_fkey FOREIGN KEY (product_id) REFERENCES production.products (product_id),
  CONSTRAINT transaction_items_quantity_check CHECK (quantity > 0),
  CONSTRAINT transaction_items_discount_check CHECK (discount_percentage BETWEEN 0 AND 100),
  CONSTRAINT transaction_items_line_total_check CHECK (line_total >= 0)
);

CREATE INDEX transactions_customer_id_idx ON production.transactions (customer_id);
CREATE INDEX transactions_transaction_date_idx ON production.transactions (transaction_date);
CREATE INDEX transaction_items_transaction_id_idx ON production.transaction_items (transaction_id);
CREATE INDEX transaction_items_product_id_idx ON production.transaction_items (product_id);

-- Rows that break a business rule: never silently lost.
CREATE TABLE production.rejected_rows (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id      uuid,
  table_name  text NOT NULL,
  row_id      text,
  reason      text NOT NULL,
  row_data    jsonb NOT NULL,
  rejected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejected_rows_run_id_idx ON production.rejected_rows (run_id);

-- warehouse: Kimball star schema. An open SCD2 version ends on 9999-12-31 so that
-- "valid on date d" is the plain range test effective_date <= d < end_date.
CREATE TABLE warehouse.dim_date (
  date_key     int PRIMARY KEY,
  full_date    date NOT NULL UNIQUE,
  year         int NOT NULL,
  quarter      int NOT NULL,
  month        int NOT NULL,
  day          int NOT NULL,
  month_name   text NOT NULL,
  day_name     text NOT NULL,
  week_of_year int NOT NULL,
  is_weekend   boolean NOT NULL
);

CREATE TABLE warehouse.dim_payment_method (
  payment_method_key  int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  payment_method_name text NOT NULL,
  payment_type        text NOT NULL,
  CONSTRAINT dim_payment_method_name_key UNIQUE (payment_method_name)
);

CREATE TABLE warehouse.dim_customers (
  customer_key      bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  customer_id       text NOT NULL,
  full_name         text NOT NULL,
  email             text,
  city              text,
  state             text,
  country           text,
  age_group         text,
  customer_segment  text,
  registration_date date,
  effective_date    date NOT NULL,
  end_date          date NOT NULL DEFAULT DATE '9999-12-31',
  is_current        boolean NOT NULL DEFAULT true,
  CONSTRAINT dim_customers_dates_check CHECK (effective_date < end_date)
);
CREATE UNIQUE INDEX dim_customers_one_current_idx ON warehouse.dim_customers (customer_id) WHERE is_current;
CREATE INDEX dim_customers_lookup_idx ON warehouse.dim_customers (customer_id, effective_date, end_date);

CREATE TABLE warehouse.dim_products (
  product_key    bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  product_id     text NOT NULL,
  product_name   text NOT NULL,
  category       text,
  sub_category   text,
  brand          text,
  price_range    text,
  effective_date date NOT NULL,
  end_date       date NOT NULL DEFAULT DATE '9999-12-31',
  is_current     boolean NOT NULL DEFAULT true,
  CONSTRAINT dim_products_dates_check CHECK (effective_date < end_date)
);
CREATE UNIQUE INDEX dim_products_one_current_idx ON warehouse.dim_products (product_id) WHERE is_current;
CREATE INDEX dim_products_lookup_idx ON warehouse.dim_products (product_id, effective_date, end_date);

CREATE TABLE warehouse.fact_sales (
  sales_key          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  item_id            text NOT NULL,
  date_key           int NOT NULL,
  customer_key       bigint NOT NULL,
  product_key        bigint NOT NULL,
  payment_method_key int NOT NULL,
  transaction_id     text NOT NULL,
  quantity           int NOT NULL,
  unit_price         numeric(12,2) NOT NULL,
  discount_amount    numeric(12,2) NOT NULL,
  line_total         numeric(12,2) NOT NULL,
  profit             numeric(12,2) NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT fact_sales_item_id_key UNIQUE (item_id),
  CONSTRAINT fact_sales_date_key_fkey FOREIGN KEY (date_key) REFERENCES warehouse.dim_date (date_key),
  CONSTRAINT fact_sales_customer_key_fkey FOREIGN KEY (customer_key) REFERENCES warehouse.dim_customers (customer_key),
  CONSTRAINT fact_sales_product_key_fkey FOREIGN KEY (product_key) REFERENCES warehouse.dim_products (product_key),
  CONSTRAINT fact_sales_payment_method_key_fkey FOREIGN KEY (payment_method_key) REFERENCES warehouse.dim_payment_method (payment_method_key)
);
CREATE INDEX fact_sales_date_key_idx ON warehouse.fact_sales (date_key);
CREATE INDEX fact_sales_customer_key_idx ON warehouse.fact_sales (customer_key);
CREATE INDEX fact_sales_product_key_idx ON warehouse.fact_sales (product_key);
CREATE INDEX fact_sales_payment_method_key_idx ON warehouse.fact_sales (payment_method_key);

CREATE TABLE warehouse.agg_daily_sales (
  date_key           int PRIMARY KEY,
  total_transactions int NOT NULL,
  total_revenue      numeric(14,2) NOT NULL,
  total_profit       numeric(14,2) NOT NULL,
  unique_customers   int NOT NULL
);

CREATE TABLE warehouse.agg_product_performance (
  product_key             bigint PRIMARY KEY,
  total_quantity_sold     bigint NOT NULL,
  total_revenue           numeric(14,2) NOT NULL,
  total_profit            numeric(14,2) NOT NULL,
  avg_discount_percentage numeric(5,2) NOT NULL
);

CREATE TABLE warehouse.agg_customer_metrics (
  customer_key       bigint PRIMARY KEY,
  total_transactions int NOT NULL,
  total_spent        numeric(14,2) NOT NULL,
  avg_order_value    numeric(12,2) NOT NULL,
  last_purchase_date date NOT NULL
);

-- pipeline: the daemon's own state.
CREATE TABLE pipeline.runs (
  id              uuid PRIMARY KEY,
  trigger         text NOT NULL CHECK (trigger IN ('schedule', 'api', 'cli', 'backfill')),
  run_date        date NOT NULL,
  -- For scheduled runs: the cron tick they were started for (its date in the scheduler's time
  -- zone is run_date). Every replica computes the same instant for the same tick.
  scheduled_for   timestamptz,
  status          text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned', 'interrupted')),
  owner           text NOT NULL,
  host            text,
  pid             int,
  requested_stages text[],
  resumed_from    uuid REFERENCES pipeline.runs (id),
  code_version    text NOT NULL,
  config_hash     text NOT NULL,
  started_at      timestamptz NOT NULL DEFAULT now(),
  heartbeat_at    timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  error           text,
  report          jsonb
);
-- One scheduled run per tick (with the default daily schedule: per business date), whatever the
-- number of replicas; an abandoned one (its process died) does not count, so it can run again.
CREATE UNIQUE INDEX runs_scheduled_tick_idx ON pipeline.runs (run_date, scheduled_for)
  WHERE trigger = 'schedule' AND status <> 'abandoned';
CREATE INDEX runs_started_at_idx ON pipeline.runs (started_at DESC);
CREATE INDEX runs_status_idx ON pipeline.runs (status) WHERE status = 'running';

CREATE TABLE pipeline.stage_runs (
  run_id      uuid NOT NULL REFERENCES pipeline.runs (id) ON DELETE CASCADE,
  stage       text NOT NULL,
  position    int NOT NULL,
  status      text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped')),
  attempts    int NOT NULL DEFAULT 0,
  started_at  timestamptz,
  finished_at timestamptz,
  duration_ms int,
  rows        jsonb NOT NULL DEFAULT '[]',
  error       text,
  error_kind  text,
  details     jsonb,
  PRIMARY KEY (run_id, stage)
);

CREATE TABLE pipeline.stage_attempts (
  run_id      uuid NOT NULL REFERENCES pipeline.runs (id) ON DELETE CASCADE,
  stage       text NOT NULL,
  attempt     int NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  outcome     text NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'timeout', 'aborted')),
  error       text,
  retry_delay_ms int,
  PRIMARY KEY (run_id, stage, attempt)
);

-- A run that could not start because another process held the lock (or the date was done).
CREATE TABLE pipeline.run_skips (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  trigger   text NOT NULL,
  run_date  date NOT NULL,
  reason    text NOT NULL,
  host      text,
  pid       int
);

-- Failing rows of the quality gate, with the raw row.
CREATE TABLE pipeline.quarantine (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id      uuid,
  table_name  text NOT NULL,
  row_id      text,
  check_name  text NOT NULL,
  reason      text NOT NULL,
  row_data    jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quarantine_run_id_idx ON pipeline.quarantine (run_id);
