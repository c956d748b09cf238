-- The fast pass over staging.customers ($1 run date, $2..$3 the plausible window): one row with the row count, per mandatory
-- field the rows that have it NULL or blank (the report's per-column counts), and per other check
-- of the table a number that is above 0 whenever that check has failing rows. Only the checks
-- with a number above 0 then run their own sql/<check>.sql, which quarantines the rows and counts
-- them, so on clean data nothing else reads the table. The rules must stay those of the checks'
-- files (the stage's tests compare both with every check failing).
-- Duplicates: count(key) - count(DISTINCT key), the surplus copies, read apart from the rest so
-- that the main aggregate can run in parallel workers (a DISTINCT aggregate cannot). It also
-- counts repeated blank keys, which the check leaves to completeness: then the check's statement
-- runs and quarantines nothing, which costs time but changes no result. DISTINCT sorts; COLLATE
-- "C" compares bytes, the same equality as the database's deterministic collation, without
-- strcoll (300k ids: 170 ms instead of 320 ms; grouping them in a hash: 290 ms; 3M ids in id
-- order: 0.7 s instead of 5.5 s hashed).
SELECT count(*) AS row_count,
  json_build_object(
    'customer_id', count(*) FILTER (WHERE nullif(btrim(customer_id), '') IS NULL),
    'first_name', count(*) FILTER (WHERE nullif(btrim(first_name), '') IS NULL),
    'last_name', count(*) FILTER (WHERE nullif(btrim(last_name), '') IS NULL),
    'email', count(*) FILTER (WHERE nullif(btrim(email), '') IS NULL),
    'registration_date', count(*) FILTER (WHERE registration_date IS NULL)
  ) AS missing,
  json_build_object(
    'customers_duplicate_id',
      (SELECT count(customer_id) - count(DISTINCT (customer_id COLLATE "C")) FROM staging.customers),
    'customers_duplicate_email',
      (SELECT count(email) - count(DISTINCT (lower(btrim(email)) COLLATE "C")) FROM staging.customers),
    'customers_registration_not_future', count(*) FILTER (WHERE registration_date > $1::date),
    'customers_registration_plausible',
      count(*) FILTER (WHERE registration_date < $2::date OR registration_date > $3::date),
    'customers_email_format', count(*) FILTER (
      WHERE nullif(btrim(email), '') IS NOT NULL
        AND btrim(email) !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$')
  ) AS failing
FROM staging.customers;
