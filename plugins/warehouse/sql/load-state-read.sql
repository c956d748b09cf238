-- Where the latest warehouse run left off: production rows created or changed since
-- loaded_through (its transaction's start) are what this run reads (README, "What counts as
-- new"); none on a first load, or when fact_sales has been emptied (everything is read again).
SELECT s.loaded_through::text AS loaded_through
FROM warehouse.load_state s
WHERE EXISTS (SELECT 1 FROM warehouse.fact_sales)
