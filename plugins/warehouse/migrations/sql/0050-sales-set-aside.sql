-- Production sales dated where the calendar cannot go (README, "Sales set aside"): infinite, or
-- outside the days dim_date may hold. The warehouse leaves them out of fact_sales instead of
-- refusing every run, and keeps them here, so that the run after one is corrected loads it,
-- however it was corrected (by hand, updated_at untouched). Each warehouse run replaces the
-- list with the sales it set aside; set_aside_since is when the first of those runs did.
CREATE TABLE warehouse.sales_set_aside (
    transaction_id text PRIMARY KEY,
    transaction_date date NOT NULL,
    set_aside_since timestamp with time zone DEFAULT now() NOT NULL
);
