-- Places this business date's snapshot in each customer's history (README, "Order of runs"),
-- whatever the order in which dates are loaded. A member's state on date X is its latest
-- 'present' or 'absent' row at or before X ('unobserved' rows carry the state on); a row is kept
-- only where the state changes. Loading date D (N: the next date production holds, if any):
--   * D's row: the snapshot's observation where it differs from the state before D
--     (etl_customers_before), an 'unobserved' marker where D rejected every row of the
--     member, else none;
--   * N's row, so that N and every later date keep their state: dropped where N now says what D
--     says, added (with the state D used to leave) where N had none and D's state changed.
-- A redo of D replaces D's rows the same way. Members whose state changed go to
-- production.member_changes (the warehouse re-derives their versions from D on) and get their
-- production row refreshed (customers-mirror-refresh.sql).
-- The members whose state this load can change: accepted and not unchanged against the state
-- before D (classification's action), staged but every row rejected, present before and not
-- staged, or holding a row at D (a redo) or at the next date (a date loaded late). A daily run
-- touches a few thousand of a hundred thousand members; kept apart and analysed, so that the
-- statement below reads only their rows, through the keys.
CREATE TEMP TABLE etl_customers_members ON COMMIT DROP AS
SELECT customer_id, bool_or(rejected_only) AS rejected_only
FROM (SELECT customer_id, false AS rejected_only FROM etl_customers WHERE reason IS NULL AND action <> 'unchanged'
      UNION ALL
      SELECT customer_id, true FROM etl_customers WHERE customer_id IS NOT NULL GROUP BY customer_id HAVING bool_and(reason IS NOT NULL)
      UNION ALL
      SELECT b.customer_id, false FROM etl_customers_before b
      WHERE b.observation = 'present' AND NOT EXISTS (SELECT 1 FROM etl_customers c WHERE c.customer_id = b.customer_id)
      UNION ALL
      SELECT h.customer_id, false FROM production.customer_history h WHERE h.business_date = (SELECT run_date FROM etl_settings)
      UNION ALL
      SELECT h.customer_id, false FROM production.customer_history h WHERE h.business_date = (SELECT next_date FROM etl_settings)) m
GROUP BY customer_id;
ALTER TABLE etl_customers_members ADD PRIMARY KEY (customer_id);
ANALYZE etl_customers_members;

CREATE TEMP TABLE etl_customers_states ON COMMIT DROP AS
WITH sides AS (
  SELECT m.customer_id,
         CASE WHEN a.customer_id IS NOT NULL THEN 'present' WHEN m.rejected_only THEN 'unobserved' ELSE 'absent' END AS observed,
         CASE WHEN b.observation = 'present' THEN 'present' ELSE 'absent' END AS before,
         d.observation AS d_observation,
         n.observation AS n_observation,
         a.first_name AS o_first_name,
         a.last_name AS o_last_name,
         a.email AS o_email,
         a.phone AS o_phone,
         a.registration_date AS o_registration_date,
         a.city AS o_city,
         a.state AS o_state,
         a.country AS o_country,
         a.age_group AS o_age_group,
         b.first_name AS b_first_name,
         b.last_name AS b_last_name,
         b.email AS b_email,
         b.phone AS b_phone,
         b.registration_date AS b_registration_date,
         b.city AS b_city,
         b.state AS b_state,
         b.country AS b_country,
         b.age_group AS b_age_group,
         d.first_name AS d_first_name,
         d.last_name AS d_last_name,
         d.email AS d_email,
         d.phone AS d_phone,
         d.registration_date AS d_registration_date,
         d.city AS d_city,
         d.state AS d_state,
         d.country AS d_country,
         d.age_group AS d_age_group,
         n.first_name AS n_first_name,
         n.last_name AS n_last_name,
         n.email AS n_email,
         n.phone AS n_phone,
         n.registration_date AS n_registration_date,
         n.city AS n_city,
         n.state AS n_state,
         n.country AS n_country,
         n.age_group AS n_age_group
  FROM etl_customers_members m
  LEFT JOIN (SELECT * FROM etl_customers WHERE reason IS NULL) a ON a.customer_id = m.customer_id
  LEFT JOIN etl_customers_before b ON b.customer_id = m.customer_id
  LEFT JOIN production.customer_history d
         ON d.customer_id = m.customer_id AND d.business_date = (SELECT run_date FROM etl_settings)
  LEFT JOIN production.customer_history n
         ON n.customer_id = m.customer_id AND n.business_date = (SELECT next_date FROM etl_settings)
),
states AS (
  -- The state on D as loaded before (D's old row, else the state before D) and after this load
  -- (D's observation, else the state before D). Values count only where the state is 'present'.
  SELECT s.*,
         CASE WHEN s.d_observation IN ('present', 'absent') THEN s.d_observation ELSE s.before END AS old_kind,
         CASE WHEN s.observed IN ('present', 'absent') THEN s.observed ELSE s.before END AS new_kind,
         CASE WHEN s.d_observation = 'present' THEN s.d_first_name ELSE s.b_first_name END AS old_first_name,
         CASE WHEN s.d_observation = 'present' THEN s.d_last_name ELSE s.b_last_name END AS old_last_name,
         CASE WHEN s.d_observation = 'present' THEN s.d_email ELSE s.b_email END AS old_email,
         CASE WHEN s.d_observation = 'present' THEN s.d_phone ELSE s.b_phone END AS old_phone,
         CASE WHEN s.d_observation = 'present' THEN s.d_registration_date ELSE s.b_registration_date END AS old_registration_date,
         CASE WHEN s.d_observation = 'present' THEN s.d_city ELSE s.b_city END AS old_city,
         CASE WHEN s.d_observation = 'present' THEN s.d_state ELSE s.b_state END AS old_state,
         CASE WHEN s.d_observation = 'present' THEN s.d_country ELSE s.b_country END AS old_country,
         CASE WHEN s.d_observation = 'present' THEN s.d_age_group ELSE s.b_age_group END AS old_age_group,
         CASE WHEN s.observed = 'present' THEN s.o_first_name ELSE s.b_first_name END AS new_first_name,
         CASE WHEN s.observed = 'present' THEN s.o_last_name ELSE s.b_last_name END AS new_last_name,
         CASE WHEN s.observed = 'present' THEN s.o_email ELSE s.b_email END AS new_email,
         CASE WHEN s.observed = 'present' THEN s.o_phone ELSE s.b_phone END AS new_phone,
         CASE WHEN s.observed = 'present' THEN s.o_registration_date ELSE s.b_registration_date END AS new_registration_date,
         CASE WHEN s.observed = 'present' THEN s.o_city ELSE s.b_city END AS new_city,
         CASE WHEN s.observed = 'present' THEN s.o_state ELSE s.b_state END AS new_state,
         CASE WHEN s.observed = 'present' THEN s.o_country ELSE s.b_country END AS new_country,
         CASE WHEN s.observed = 'present' THEN s.o_age_group ELSE s.b_age_group END AS new_age_group
  FROM sides s
),
decided AS (
  SELECT s.*,
         CASE WHEN s.observed = 'unobserved' THEN 'unobserved'
              WHEN s.observed <> s.before THEN s.observed
              WHEN s.observed = 'present' AND (s.o_first_name, s.o_last_name, s.o_email, s.o_phone, s.o_registration_date, s.o_city, s.o_state, s.o_country, s.o_age_group) IS DISTINCT FROM (s.b_first_name, s.b_last_name, s.b_email, s.b_phone, s.b_registration_date, s.b_city, s.b_state, s.b_country, s.b_age_group) THEN 'present'
         END AS new_observation,
         s.old_kind <> s.new_kind
           OR (s.new_kind = 'present' AND (s.old_first_name, s.old_last_name, s.old_email, s.old_phone, s.old_registration_date, s.old_city, s.old_state, s.old_country, s.old_age_group) IS DISTINCT FROM (s.new_first_name, s.new_last_name, s.new_email, s.new_phone, s.new_registration_date, s.new_city, s.new_state, s.new_country, s.new_age_group)) AS changed
  FROM states s
)
SELECT s.*,
       s.d_observation IS DISTINCT FROM s.new_observation
         OR (s.new_observation = 'present' AND (s.d_first_name, s.d_last_name, s.d_email, s.d_phone, s.d_registration_date, s.d_city, s.d_state, s.d_country, s.d_age_group) IS DISTINCT FROM (s.o_first_name, s.o_last_name, s.o_email, s.o_phone, s.o_registration_date, s.o_city, s.o_state, s.o_country, s.o_age_group)) AS rewrite_d,
       CASE
         WHEN st.next_date IS NULL THEN NULL
         WHEN s.n_observation IN ('present', 'absent') AND s.n_observation = s.new_kind
              AND (s.new_kind = 'absent' OR (s.n_first_name, s.n_last_name, s.n_email, s.n_phone, s.n_registration_date, s.n_city, s.n_state, s.n_country, s.n_age_group) IS NOT DISTINCT FROM (s.new_first_name, s.new_last_name, s.new_email, s.new_phone, s.new_registration_date, s.new_city, s.new_state, s.new_country, s.new_age_group)) THEN 'delete'
         WHEN s.n_observation IS NULL AND s.changed THEN 'insert'
       END AS next_action
FROM decided s
CROSS JOIN etl_settings st;

-- N's row first (it may copy D's old row, which the next statements replace).
INSERT INTO production.customer_history (customer_id, business_date, observation, first_name, last_name, email, phone, registration_date, city, state, country, age_group)
SELECT s.customer_id, st.next_date, s.old_kind,
       CASE WHEN s.old_kind = 'present' THEN s.old_first_name END, CASE WHEN s.old_kind = 'present' THEN s.old_last_name END, CASE WHEN s.old_kind = 'present' THEN s.old_email END, CASE WHEN s.old_kind = 'present' THEN s.old_phone END, CASE WHEN s.old_kind = 'present' THEN s.old_registration_date END, CASE WHEN s.old_kind = 'present' THEN s.old_city END, CASE WHEN s.old_kind = 'present' THEN s.old_state END, CASE WHEN s.old_kind = 'present' THEN s.old_country END, CASE WHEN s.old_kind = 'present' THEN s.old_age_group END
FROM etl_customers_states s
CROSS JOIN etl_settings st
WHERE s.next_action = 'insert';

DELETE FROM production.customer_history h
USING etl_customers_states s, etl_settings st
WHERE s.next_action = 'delete' AND h.customer_id = s.customer_id AND h.business_date = st.next_date;

DELETE FROM production.customer_history h
USING etl_customers_states s, etl_settings st
WHERE s.rewrite_d AND h.customer_id = s.customer_id AND h.business_date = st.run_date;

INSERT INTO production.customer_history (customer_id, business_date, observation, first_name, last_name, email, phone, registration_date, city, state, country, age_group)
SELECT s.customer_id, st.run_date, s.new_observation,
       CASE WHEN s.new_observation = 'present' THEN s.o_first_name END, CASE WHEN s.new_observation = 'present' THEN s.o_last_name END, CASE WHEN s.new_observation = 'present' THEN s.o_email END, CASE WHEN s.new_observation = 'present' THEN s.o_phone END, CASE WHEN s.new_observation = 'present' THEN s.o_registration_date END, CASE WHEN s.new_observation = 'present' THEN s.o_city END, CASE WHEN s.new_observation = 'present' THEN s.o_state END, CASE WHEN s.new_observation = 'present' THEN s.o_country END, CASE WHEN s.new_observation = 'present' THEN s.o_age_group END
FROM etl_customers_states s
CROSS JOIN etl_settings st
WHERE s.rewrite_d AND s.new_observation IS NOT NULL;

INSERT INTO production.member_changes (dimension, member_id, from_date, run_id)
SELECT 'customers', s.customer_id, st.run_date, st.run_id
FROM etl_customers_states s
CROSS JOIN etl_settings st
WHERE s.changed;
