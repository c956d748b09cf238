-- The days dim_date may hold: from $1 (the earliest business date) to $2 (the run date + 366
-- days; libs/contract/business-dates.ts), widened to the days it already holds, so that a
-- backfill for an earlier date still keeps the later days earlier runs added.
SELECT least($1::date, min(full_date))::text AS earliest,
       greatest($2::date, max(full_date))::text AS latest
FROM warehouse.dim_date
