-- Any order of runs gives the in-order result (production-etl and warehouse READMEs, "Order of
-- runs"): production keeps each dimension's history by business date and which business date
-- each fact came from, so that a day loaded late, redone or corrected is placed in the history
-- where it belongs instead of on top of it; the warehouse derives its SCD type 2 versions from
-- that history and logs the facts it changes other than by appending.

-- The business dates production holds: each date whose input production-etl loaded.
CREATE TABLE production.business_dates (
  business_date date PRIMARY KEY,
  run_id        uuid,
  loaded_at     timestamptz NOT NULL DEFAULT now()
);

-- Each member's observations by business date, kept only where they change: a row at date D
-- holds what D's snapshot said of the member when that differs from its state on the business
-- date before D (its latest row before D). 'present' carries the cleansed values; 'absent' means
-- the member was missing from D's snapshot after being present; 'unobserved' means D staged it
-- but rejected every row of it, so D says nothing and its state carries on from before.
CREATE TABLE production.customer_history (
  customer_id       text NOT NULL,
  business_date     date NOT NULL,
  observation       text NOT NULL,
  first_name        text,
  last_name         text,
  email             text,
  phone             text,
  registration_date date,
  city              text,
  state             text,
  country           text,
  age_group         text,
  recorded_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, business_date),
  CONSTRAINT customer_history_observation_check CHECK (observation IN ('present', 'absent', 'unobserved')),
  CONSTRAINT customer_history_values_check CHECK ((observation = 'present') = (first_name IS NOT NULL))
);

CREATE TABLE production.product_history (
  product_id     text NOT NULL,
  business_date  date NOT NULL,
  observation    text NOT NULL,
  product_name   text,
  category       text,
  sub_category   text,
  price          numeric(12,2),
  cost           numeric(12,2),
  brand          text,
  stock_quantity int,
  supplier_id    text,
  profit_margin  numeric(5,2),
  price_category text,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (product_id, business_date),
  CONSTRAINT product_history_observation_check CHECK (observation IN ('present', 'absent', 'unobserved')),
  CONSTRAINT product_history_values_check CHECK ((observation = 'present') = (product_name IS NOT NULL))
);

-- A date's rows: what a rerun of the date replaces, and the next date's rows a date loaded late
-- must keep in step.
CREATE INDEX customer_history_business_date_idx ON production.customer_history (business_date);
CREATE INDEX product_history_business_date_idx ON production.product_history (business_date);

-- The members whose history a production-etl run changed, and from which business date on: the
-- warehouse's inbox. The warehouse re-derives those members' versions and deletes the rows it
-- applied, in its own transaction.
CREATE TABLE production.member_changes (
  dimension   text NOT NULL CHECK (dimension IN ('customers', 'products')),
  member_id   text NOT NULL,
  from_date   date NOT NULL,
  run_id      uuid,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX member_changes_member_idx ON production.member_changes (dimension, member_id);

-- Which business date's input each fact came from (the earliest date whose input holds it), and
-- the total a transaction arrived with (total_amount is reconciled to its items' sum; the staged
-- total is what a transaction without items keeps).
ALTER TABLE production.transactions ADD COLUMN business_date date, ADD COLUMN source_total_amount numeric(12,2);
ALTER TABLE production.transaction_items ADD COLUMN business_date date;

-- Facts withdrawn because the input of their business date no longer holds them (a redo with
-- corrected files), or because their transaction was withdrawn: never silently lost.
CREATE TABLE production.withdrawn_facts (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id        uuid,
  business_date date NOT NULL,
  table_name    text NOT NULL CHECK (table_name IN ('transactions', 'transaction_items')),
  fact_id       text NOT NULL,
  reason        text NOT NULL,
  row_data      jsonb NOT NULL,
  withdrawn_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX withdrawn_facts_withdrawn_at_idx ON production.withdrawn_facts (withdrawn_at);
CREATE INDEX withdrawn_facts_run_id_idx ON production.withdrawn_facts (run_id);

-- A fact that the input of another business date also holds, as that date had it: the copy that
-- takes over if the owning date's input drops the fact.
CREATE TABLE production.fact_copies (
  table_name    text NOT NULL CHECK (table_name IN ('transactions', 'transaction_items')),
  fact_id       text NOT NULL,
  business_date date NOT NULL,
  row_data      jsonb NOT NULL,
  PRIMARY KEY (table_name, fact_id, business_date)
);
CREATE INDEX fact_copies_business_date_idx ON production.fact_copies (business_date);

-- An existing database upgrades in place. The dates come from the runs whose production-etl
-- succeeded; each fact from the run that created it (or its own date, for rows loaded another
-- way); each member's history from the warehouse's versions where it has them (their start
-- dates and tracked attributes, with today's other values), else from its production row.
INSERT INTO production.business_dates (business_date, run_id)
SELECT DISTINCT ON (r.run_date) r.run_date, r.id
FROM pipeline.runs r
JOIN pipeline.stage_runs s ON s.run_id = r.id AND s.stage = 'production-etl' AND s.status = 'succeeded'
ORDER BY r.run_date, r.started_at DESC;

UPDATE production.transactions t
SET business_date = coalesce(
      (SELECT r.run_date FROM pipeline.runs r
       WHERE t.created_at >= r.started_at AND t.created_at <= coalesce(r.finished_at, 'infinity')
       ORDER BY r.started_at DESC LIMIT 1),
      t.transaction_date),
    source_total_amount = t.total_amount;
UPDATE production.transaction_items i
SET business_date = coalesce(
      (SELECT r.run_date FROM pipeline.runs r
       WHERE i.created_at >= r.started_at AND i.created_at <= coalesce(r.finished_at, 'infinity')
       ORDER BY r.started_at DESC LIMIT 1),
      (SELECT t.business_date FROM production.transactions t WHERE t.transaction_id = i.transaction_id));

-- No index on business_date: only a rerun of a date reads the facts it owns (a scan), and every
-- load would pay for keeping one (two more index builds on a bulk load).
ALTER TABLE production.transactions ALTER COLUMN business_date SET NOT NULL;
ALTER TABLE production.transaction_items ALTER COLUMN business_date SET NOT NULL;

INSERT INTO production.customer_history
  (customer_id, business_date, observation, first_name, last_name, email, phone, registration_date, city, state, country, age_group)
SELECT c.customer_id, v.effective_date, 'present',
       -- full_name is first_name || ' ' || last_name; the current split is the best known one.
       CASE WHEN v.full_name = c.first_name || ' ' || c.last_name THEN c.first_name ELSE split_part(v.full_name, ' ', 1) END,
       CASE WHEN v.full_name = c.first_name || ' ' || c.last_name THEN c.last_name
            ELSE coalesce(nullif(substr(v.full_name, length(split_part(v.full_name, ' ', 1)) + 2), ''), c.last_name) END,
       coalesce(v.email, c.email), c.phone, c.registration_date, v.city, v.state, v.country, v.age_group
FROM warehouse.dim_customers v
JOIN production.customers c ON c.customer_id = v.customer_id
UNION ALL
-- A gap between versions, or no current version: the member was absent from then on.
SELECT v.customer_id, v.end_date, 'absent', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM warehouse.dim_customers v
WHERE v.end_date < DATE '9999-12-31'
  AND NOT EXISTS (SELECT 1 FROM warehouse.dim_customers n WHERE n.customer_id = v.customer_id AND n.effective_date = v.end_date)
UNION ALL
SELECT c.customer_id, coalesce((SELECT min(business_date) FROM production.business_dates), DATE '1900-01-01'), 'present',
       c.first_name, c.last_name, c.email, c.phone, c.registration_date, c.city, c.state, c.country, c.age_group
FROM production.customers c
WHERE NOT EXISTS (SELECT 1 FROM warehouse.dim_customers v WHERE v.customer_id = c.customer_id);

INSERT INTO production.customer_history (customer_id, business_date, observation)
SELECT c.customer_id,
       greatest(c.removed_at::date, coalesce((SELECT min(business_date) FROM production.business_dates), DATE '1900-01-01') + 1),
       'absent'
FROM production.customers c
WHERE NOT c.is_active
  AND NOT EXISTS (SELECT 1 FROM warehouse.dim_customers v WHERE v.customer_id = c.customer_id)
ON CONFLICT DO NOTHING;

INSERT INTO production.product_history
  (product_id, business_date, observation, product_name, category, sub_category, price, cost, brand,
   stock_quantity, supplier_id, profit_margin, price_category)
SELECT p.product_id, v.effective_date, 'present', v.product_name, v.category, v.sub_category, p.price, p.cost, v.brand,
       p.stock_quantity, p.supplier_id, p.profit_margin, coalesce(v.price_range, p.price_category)
FROM warehouse.dim_products v
JOIN production.products p ON p.product_id = v.product_id
UNION ALL
SELECT v.product_id, v.end_date, 'absent', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM warehouse.dim_products v
WHERE v.end_date < DATE '9999-12-31'
  AND NOT EXISTS (SELECT 1 FROM warehouse.dim_products n WHERE n.product_id = v.product_id AND n.effective_date = v.end_date)
UNION ALL
SELECT p.product_id, coalesce((SELECT min(business_date) FROM production.business_dates), DATE '1900-01-01'), 'present',
       p.product_name, p.category, p.sub_category, p.price, p.cost, p.brand, p.stock_quantity, p.supplier_id,
       p.profit_margin, p.price_category
FROM production.products p
WHERE NOT EXISTS (SELECT 1 FROM warehouse.dim_products v WHERE v.product_id = p.product_id);

INSERT INTO production.product_history (product_id, business_date, observation)
SELECT p.product_id,
       greatest(p.removed_at::date, coalesce((SELECT min(business_date) FROM production.business_dates), DATE '1900-01-01') + 1),
       'absent'
FROM production.products p
WHERE NOT p.is_active
  AND NOT EXISTS (SELECT 1 FROM warehouse.dim_products v WHERE v.product_id = p.product_id)
ON CONFLICT DO NOTHING;

-- warehouse: what the latest run loaded through, and the business date the warehouse is as of.
-- loaded_through is the start of the latest warehouse run that succeeded: production rows created
-- or changed since are what the next run reads (warehouse README, "What counts as new").
CREATE TABLE warehouse.load_state (
  singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  loaded_through timestamptz NOT NULL,
  as_of_date     date
);
INSERT INTO warehouse.load_state (loaded_through, as_of_date)
SELECT max(f.created_at), (SELECT max(business_date) FROM production.business_dates)
FROM warehouse.fact_sales f
HAVING max(f.created_at) IS NOT NULL;

-- Facts the warehouse changed other than by appending (re-pointed to another version, corrected,
-- removed), with what they were: the analytics summaries recount what these touched.
CREATE TABLE warehouse.fact_changes (
  change_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sales_key          bigint NOT NULL,
  change             text NOT NULL CHECK (change IN ('update', 'delete')),
  transaction_id     text NOT NULL,
  date_key           int NOT NULL,
  customer_key       bigint NOT NULL,
  customer_id        text NOT NULL,
  product_key        bigint NOT NULL,
  product_id         text NOT NULL,
  payment_method_key int NOT NULL,
  changed_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fact_changes_changed_at_idx ON warehouse.fact_changes (changed_at);

-- A version's facts by date: re-pointing the facts of a member whose versions changed from a date
-- on reads only those, and the aggregates' recomputation of touched keys reads the same index.
DROP INDEX warehouse.fact_sales_customer_key_idx;
CREATE INDEX fact_sales_customer_key_idx ON warehouse.fact_sales (customer_key, date_key);
DROP INDEX warehouse.fact_sales_product_key_idx;
CREATE INDEX fact_sales_product_key_idx ON warehouse.fact_sales (product_key, date_key);

-- The triggers that mark derived data stale when facts change stay for changes made by hand;
-- the warehouse's own changes are logged in fact_changes and applied to the sums and summaries
-- by the stages themselves, so those statements set warehouse.fact_changes_logged for their
-- transaction and the triggers let them pass.
CREATE OR REPLACE FUNCTION analytics.mark_summaries_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('warehouse.fact_changes_logged', true) = 'on' THEN
    RETURN NULL;
  END IF;
  UPDATE analytics.summary_state SET stale = true WHERE NOT stale;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION warehouse.forget_product_performance_sums() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('warehouse.fact_changes_logged', true) = 'on' THEN
    RETURN NULL;
  END IF;
  DELETE FROM warehouse.product_performance_sums;
  RETURN NULL;
END;
$$;

ALTER TABLE analytics.summary_state ADD COLUMN last_change_id bigint NOT NULL DEFAULT 0;

-- A stage may report a fingerprint of the input it read (ingestion: the files of the date), so
-- that a backfill notices a date whose input changed since it succeeded.
ALTER TABLE pipeline.stage_runs ADD COLUMN input_fingerprint text;
