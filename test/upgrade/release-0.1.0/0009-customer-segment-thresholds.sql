-- The spend thresholds the warehouse last computed customer segments with. A run recomputes the
-- segments of the customers touched since the latest load only while the thresholds stay the
-- same; when they change (or on the first run), it recomputes every customer.
CREATE TABLE warehouse.customer_segment_thresholds (
  singleton              boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  high_value_min_spend   numeric NOT NULL,
  medium_value_min_spend numeric NOT NULL
);
