-- Client connections to the whole server against its limit. The embedded database lists no
-- client backend here (it runs one standalone backend with no connection slots to run out of).
SELECT count(*)::int                                  AS client_connections,
       count(*) FILTER (WHERE state = 'active')::int  AS active_connections,
       current_setting('max_connections')::int        AS max_connections
FROM pg_stat_activity
WHERE backend_type = 'client backend';
