-- This run's start is where the next one reads from ($1 = the run's business date: the warehouse
-- is as of the latest business date it has loaded, whatever the order of runs).
INSERT INTO warehouse.load_state (singleton, loaded_through, as_of_date)
VALUES (true, now(), $1::date)
ON CONFLICT (singleton) DO UPDATE
SET loaded_through = excluded.loaded_through,
    as_of_date = greatest(warehouse.load_state.as_of_date, excluded.as_of_date)
