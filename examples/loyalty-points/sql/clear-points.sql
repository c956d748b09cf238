-- Every date up to the run's business date is recomputed: the warehouse may have moved, corrected
-- or removed facts of earlier dates (a late file, a redone date), and points follow the facts.
DELETE FROM loyalty.customer_points WHERE business_date <= $1::date
