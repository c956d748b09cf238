-- Temporary tables get no statistics by themselves; without them the planner guesses hundreds of
-- rows here and multiplies every estimate that joins it.
ANALYZE etl_settings
