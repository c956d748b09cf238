-- The staging schema (raw CSV rows as ingested).
-- As release 0.1.0 of the daemon left it, squashed from that release's global migrations
-- 0001-0021 (git has them, and the reason for every change). A database migrated by that release
-- has all of it: there the migrator records this migration as applied instead of running it
-- (docs/plugins.md, "Migrations").

CREATE SCHEMA staging;

CREATE TABLE staging.customers (
    customer_id text,
    first_name text,
    last_name text,
    email text,
    phone text,
    registration_date date,
    city text,
    state text,
    country text,
    age_group text,
    loaded_at timestamp without time zone DEFAULT now() NOT NULL
);

CREATE TABLE staging.products (
    product_id text,
    product_name text,
    category text,
    sub_category text,
    price numeric,
    cost numeric,
    brand text,
    stock_quantity integer,
    supplier_id text,
    loaded_at timestamp without time zone DEFAULT now() NOT NULL
);

CREATE TABLE staging.transaction_items (
    item_id text,
    transaction_id text,
    product_id text,
    quantity integer,
    unit_price numeric,
    discount_percentage numeric,
    line_total numeric,
    loaded_at timestamp without time zone DEFAULT now() NOT NULL
);

CREATE TABLE staging.transactions (
    transaction_id text,
    customer_id text,
    transaction_date date,
    transaction_time time without time zone,
    payment_method text,
    shipping_address text,
    total_amount numeric,
    loaded_at timestamp without time zone DEFAULT now() NOT NULL
);
