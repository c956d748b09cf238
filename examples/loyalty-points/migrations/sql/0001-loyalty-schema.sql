-- The loyalty schema, owned by this plugin: `pipeline migrate` applies it after the warehouse's
-- (its stage depends on the warehouse stage) and records it in pipeline.migrations_acme_pipeline_plugin_loyalty_points.
CREATE SCHEMA loyalty;

-- Points a customer earned on a business date: one point per whole POINTS_PER unit of the line
-- totals they paid that day (sql/award-points.sql). Keyed by the warehouse's natural customer id,
-- not its surrogate key: an SCD2 customer keeps their points across versions.
CREATE TABLE loyalty.customer_points (
    customer_id   text NOT NULL,
    business_date date NOT NULL,
    spend         numeric(14,2) NOT NULL CHECK (spend >= 0),
    points        integer NOT NULL CHECK (points >= 0),
    awarded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, business_date)
);

-- What the stage deletes and rewrites on each run: the dates up to the run's business date.
CREATE INDEX customer_points_business_date_idx ON loyalty.customer_points (business_date);
