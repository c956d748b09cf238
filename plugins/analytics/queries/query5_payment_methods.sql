-- Payment method distribution: a transaction has one payment method, so the per-method
-- transaction counts add up to all transactions (and, one date each, over days).
WITH method_sales AS (
  SELECT pm.payment_method_name,
         pm.payment_type,
         sum(s.transactions) AS transactions,
         sum(s.revenue)      AS revenue
  FROM analytics.daily_payment_sales s
  JOIN warehouse.dim_payment_method pm ON pm.payment_method_key = s.payment_method_key
  GROUP BY pm.payment_method_key, pm.payment_method_name, pm.payment_type
)
SELECT payment_method_name                                                  AS payment_method,
       payment_type,
       transactions,
       round(transactions * 100.0 / NULLIF(sum(transactions) OVER (), 0), 2) AS transaction_share_pct,
       revenue,
       round(revenue * 100 / NULLIF(sum(revenue) OVER (), 0), 2)             AS revenue_share_pct,
       round(revenue / NULLIF(transactions, 0), 2)                          AS avg_order_value
FROM method_sales
ORDER BY transactions DESC, revenue DESC, payment_method_name;
