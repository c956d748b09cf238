-- The production schema (cleansed tables, history, business dates).
-- As release 0.1.0 of the daemon left it, squashed from that release's global migrations
-- 0001-0021 (git has them, and the reason for every change). A database migrated by that release
-- has all of it: there the migrator records this migration as applied instead of running it
-- (docs/plugins.md, "Migrations").

CREATE SCHEMA production;

CREATE TABLE production.business_dates (
    business_date date NOT NULL,
    run_id uuid,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE production.customer_history (
    customer_id text NOT NULL,
    business_date date NOT NULL,
    observation text NOT NULL,
    first_name text,
    last_name text,
    email text,
    phone text,
    registration_date date,
    city text,
    state text,
    country text,
    age_group text,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT customer_history_observation_check CHECK ((observation = ANY (ARRAY['present'::text, 'absent'::text, 'unobserved'::text]))),
    CONSTRAINT customer_history_values_check CHECK (((observation = 'present'::text) = (first_name IS NOT NULL)))
);

CREATE TABLE production.customers (
    customer_id text NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text NOT NULL,
    phone text,
    registration_date date NOT NULL,
    city text,
    state text,
    country text,
    age_group text,
    is_active boolean DEFAULT true NOT NULL,
    removed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE production.fact_copies (
    table_name text NOT NULL,
    fact_id text NOT NULL,
    business_date date NOT NULL,
    row_data jsonb NOT NULL,
    CONSTRAINT fact_copies_table_name_check CHECK ((table_name = ANY (ARRAY['transactions'::text, 'transaction_items'::text])))
);

CREATE TABLE production.member_changes (
    dimension text NOT NULL,
    member_id text NOT NULL,
    from_date date NOT NULL,
    run_id uuid,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT member_changes_dimension_check CHECK ((dimension = ANY (ARRAY['customers'::text, 'products'::text])))
);

CREATE TABLE production.product_history (
    product_id text NOT NULL,
    business_date date NOT NULL,
    observation text NOT NULL,
    product_name text,
    category text,
    sub_category text,
    price numeric(12,2),
    cost numeric(12,2),
    brand text,
    stock_quantity integer,
    supplier_id text,
    profit_margin numeric(5,2),
    price_category text,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT product_history_observation_check CHECK ((observation = ANY (ARRAY['present'::text, 'absent'::text, 'unobserved'::text]))),
    CONSTRAINT product_history_values_check CHECK (((observation = 'present'::text) = (product_name IS NOT NULL)))
);

CREATE TABLE production.products (
    product_id text NOT NULL,
    product_name text NOT NULL,
    category text NOT NULL,
    sub_category text,
    price numeric(12,2) NOT NULL,
    cost numeric(12,2) NOT NULL,
    brand text,
    stock_quantity integer DEFAULT 0 NOT NULL,
    supplier_id text,
    profit_margin numeric(5,2) NOT NULL,
    price_category text NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    removed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT products_cost_below_price_check CHECK ((cost < price)),
    CONSTRAINT products_cost_check CHECK ((cost >= (0)::numeric)),
    CONSTRAINT products_price_check CHECK ((price >= (0)::numeric)),
    CONSTRAINT products_stock_quantity_check CHECK ((stock_quantity >= 0))
);

CREATE TABLE production.rejected_rows (
    id bigint NOT NULL,
    run_id uuid,
    table_name text NOT NULL,
    row_id text,
    reason text NOT NULL,
    row_data jsonb NOT NULL,
    rejected_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE production.rejected_rows ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME production.rejected_rows_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE production.transaction_items (
    item_id text NOT NULL,
    transaction_id text NOT NULL,
    product_id text NOT NULL,
    quantity integer NOT NULL,
    unit_price numeric(12,2) NOT NULL,
    discount_percentage numeric(5,2) DEFAULT 0 NOT NULL,
    line_total numeric(12,2) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    business_date date NOT NULL,
    CONSTRAINT transaction_items_discount_check CHECK (((discount_percentage >= (0)::numeric) AND (discount_percentage <= (100)::numeric))),
    CONSTRAINT transaction_items_line_total_check CHECK ((line_total >= (0)::numeric)),
    CONSTRAINT transaction_items_quantity_check CHECK ((quantity > 0))
);

CREATE TABLE production.transactions (
    transaction_id text NOT NULL,
    customer_id text NOT NULL,
    transaction_date date NOT NULL,
    transaction_time time without time zone,
    payment_method text NOT NULL,
    shipping_address text,
    total_amount numeric(12,2) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    business_date date NOT NULL,
    source_total_amount numeric(12,2),
    CONSTRAINT transactions_total_amount_check CHECK ((total_amount >= (0)::numeric))
);

CREATE TABLE production.withdrawn_facts (
    id bigint NOT NULL,
    run_id uuid,
    business_date date NOT NULL,
    table_name text NOT NULL,
    fact_id text NOT NULL,
    reason text NOT NULL,
    row_data jsonb NOT NULL,
    withdrawn_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT withdrawn_facts_table_name_check CHECK ((table_name = ANY (ARRAY['transactions'::text, 'transaction_items'::text])))
);

ALTER TABLE production.withdrawn_facts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME production.withdrawn_facts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY production.business_dates
    ADD CONSTRAINT business_dates_pkey PRIMARY KEY (business_date);

ALTER TABLE ONLY production.customer_history
    ADD CONSTRAINT customer_history_pkey PRIMARY KEY (customer_id, business_date);

ALTER TABLE ONLY production.customers
    ADD CONSTRAINT customers_email_key UNIQUE (email) DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY production.customers
    ADD CONSTRAINT customers_pkey PRIMARY KEY (customer_id);

ALTER TABLE ONLY production.fact_copies
    ADD CONSTRAINT fact_copies_pkey PRIMARY KEY (table_name, fact_id, business_date);

ALTER TABLE ONLY production.product_history
    ADD CONSTRAINT product_history_pkey PRIMARY KEY (product_id, business_date);

ALTER TABLE ONLY production.products
    ADD CONSTRAINT products_pkey PRIMARY KEY (product_id);

ALTER TABLE ONLY production.rejected_rows
    ADD CONSTRAINT rejected_rows_pkey PRIMARY KEY (id);

ALTER TABLE ONLY production.transaction_items
    ADD CONSTRAINT transaction_items_pkey PRIMARY KEY (item_id);

ALTER TABLE ONLY production.transactions
    ADD CONSTRAINT transactions_pkey PRIMARY KEY (transaction_id);

ALTER TABLE ONLY production.withdrawn_facts
    ADD CONSTRAINT withdrawn_facts_pkey PRIMARY KEY (id);

CREATE INDEX customer_history_business_date_idx ON production.customer_history USING btree (business_date);

CREATE INDEX fact_copies_business_date_idx ON production.fact_copies USING btree (business_date);

CREATE INDEX member_changes_member_idx ON production.member_changes USING btree (dimension, member_id);

CREATE INDEX product_history_business_date_idx ON production.product_history USING btree (business_date);

CREATE INDEX rejected_rows_run_id_idx ON production.rejected_rows USING btree (run_id);

CREATE INDEX transaction_items_created_at_idx ON production.transaction_items USING brin (created_at);

CREATE INDEX transaction_items_product_id_idx ON production.transaction_items USING btree (product_id);

CREATE INDEX transaction_items_transaction_id_idx ON production.transaction_items USING btree (transaction_id);

CREATE INDEX transaction_items_updated_at_idx ON production.transaction_items USING btree (updated_at) WHERE (updated_at > created_at);

CREATE INDEX transactions_created_at_idx ON production.transactions USING brin (created_at);

CREATE INDEX transactions_customer_id_idx ON production.transactions USING btree (customer_id);

CREATE INDEX transactions_transaction_date_idx ON production.transactions USING btree (transaction_date);

CREATE INDEX transactions_updated_at_idx ON production.transactions USING btree (updated_at) WHERE (updated_at > created_at);

CREATE INDEX withdrawn_facts_run_id_idx ON production.withdrawn_facts USING btree (run_id);

CREATE INDEX withdrawn_facts_withdrawn_at_idx ON production.withdrawn_facts USING btree (withdrawn_at);

ALTER TABLE ONLY production.transaction_items
    ADD CONSTRAINT transaction_items_product_id_fkey FOREIGN KEY (product_id) REFERENCES production.products(product_id);

ALTER TABLE ONLY production.transaction_items
    ADD CONSTRAINT transaction_items_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES production.transactions(transaction_id);

ALTER TABLE ONLY production.transactions
    ADD CONSTRAINT transactions_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES production.customers(customer_id);
