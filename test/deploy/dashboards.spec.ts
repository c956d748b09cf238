/**
 * The Grafana dashboards and the alert rules against what the daemon exports and what the
 * warehouse holds: every PromQL expression names only exported metrics (and parses, by promtool
 * when installed), and every SQL panel runs on a freshly migrated PostgreSQL database.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { stringify } from 'yaml';
import { defaultPlugins } from '../../apps/daemon/src/plugins.js';
import { loadPlugins } from '../../libs/kernel/index.js';
import { PipelineMetrics } from '../../libs/metrics/index.js';
import { freshPostgres, needsPostgres, type TestDatabase } from '../support/databases.js';
import { readRepoFile, readYaml, toolMissing } from './deploy-files.js';
import { CONTRACT_METRIC_NAMES } from '../support/contract-metrics.js';

/**
 * Every metric the dashboards and alerts may use: the daemon's contract (daemon.md "Metrics"),
 * `pipeline_database_up` (1/0, the database check behind readiness) and the prom-client
 * default process metrics the operations dashboard shows.
 */
export const DAEMON_METRIC_NAMES: readonly string[] = [
  ...CONTRACT_METRIC_NAMES,
  'pipeline_database_up',
  'process_resident_memory_bytes',
  'process_cpu_seconds_total',
  'nodejs_heap_size_used_bytes',
  'nodejs_eventloop_lag_p99_seconds',
];

/** Series Prometheus itself writes for every target. */
const SCRAPE_SERIES = new Set(['up']);

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects. Not a full parser (promtool is, below): it drops
 * strings, label matchers, ranges, grouping clauses and Grafana variables, then keeps every
 * identifier that is not a function call, a keyword or a number.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (call || PROMQL_WORDS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return [...names].sort();
}

function knownMetric(name: string): boolean {
  if (SCRAPE_SERIES.has(name) || DAEMON_METRIC_NAMES.includes(name)) return true;
  return HISTOGRAM_SUFFIXES.some(
    (suffix) => name.endsWith(suffix) && DAEMON_METRIC_NAMES.includes(name.slice(0, -suffix.length)),
  );
}

interface Target {
  refId: string;
  expr?: string;
  rawSql?: string;
  format?: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

const DASHBOARD_DIR = 'deploy/grafana/dashboards';
const dashboards = new Map<string, Dashboard>(
  readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f, JSON.parse(readRepoFile(join(DASHBOARD_DIR, f))) as Dashboard]),
);
const dashboard = (file: string): Dashboard => {
  const found = dashboards.get(file);
  assert.ok(found, `${DASHBOARD_DIR}/${file} is missing`);
  return found;
};

/** Panels in order, including those inside collapsed rows. */
function panelsOf(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

const queryPanels = (d: Dashboard, uid: string): Array<{ panel: Panel; target: Target }> =>
  panelsOf(d).flatMap((panel) =>
    (panel.targets ?? [])
      .filter((t) => (t.datasource ?? panel.datasource)?.uid === uid)
      .map((target) => ({ panel, target })),
  );

const promExprs = [...dashboards.entries()].flatMap(([file, d]) =>
  queryPanels(d, 'pipeline-prometheus').map(({ panel, target }) => ({
    where: `${file} "${panel.title}" ${target.refId}`,
    expr: target.expr ?? '',
  })),
);
const alertExprs = readYaml<{ groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }>(
  'deploy/prometheus/alerts.yml',
).groups.flatMap((g) => g.rules.map((r) => ({ where: `alerts.yml ${r.alert}`, expr: r.expr })));

/** Grafana's interval variables, replaced by what Grafana would substitute, for promtool. */
function withGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m');
}

describe('PromQL in the dashboards and the alert rules', () => {
  it('finds the metric names in an expression and nothing else', () => {
    assert.deepEqual(
      promqlMetricNames(
        'histogram_quantile(0.9, sum by (le, stage) (increase(a_bucket{stage="x",job=~"y|z"}[1d]))) / on (job) group_left b_total > bool 3 or absent(c) unless up offset 5m',
      ),
      ['a_bucket', 'b_total', 'c', 'up'],
    );
    assert.deepEqual(promqlMetricNames('time() - max(d) > 25 * 3600 and 1e9 < e{f="g h"}'), ['d', 'e']);
  });

  it('the dashboards and alerts use only metrics the daemon exports', () => {
    assert.ok(
      promExprs.length >= 15,
      `expected the operations dashboard's queries, found ${promExprs.length}`,
    );
    for (const { where, expr } of [...promExprs, ...alertExprs]) {
      assert.ok(expr.trim(), `${where}: empty expression`);
      const unknown = promqlMetricNames(expr).filter((name) => !knownMetric(name));
      assert.deepEqual(unknown, [], `${where} uses metrics the daemon does not export: ${expr}`);
    }
  });

  it('the operations dashboard shows every pipeline_* metric of the contract', () => {
    const used = new Set(
      queryPanels(dashboard('operations.json'), 'pipeline-prometheus').flatMap(({ target }) =>
        promqlMetricNames(target.expr ?? '').map((n) => n.replace(/_(bucket|sum|count)$/, '')),
      ),
    );
    const missing = DAEMON_METRIC_NAMES.filter((n) => n.startsWith('pipeline_') && !used.has(n));
    assert.deepEqual(missing, []);
  });

  it('every listed metric is one the daemon registers (libs/metrics and prom-client defaults)', async () => {
    const pipeline = new PipelineMetrics({ defaultMetrics: false });
    for (const { manifest } of await loadPlugins(defaultPlugins))
      pipeline.declarePluginMetrics(manifest.name, manifest.metrics ?? []);
    const defaults = new Registry();
    collectDefaultMetrics({ register: defaults });
    const exported = new Set([
      ...(await pipeline.registry.getMetricsAsJSON()).map((m) => m.name),
      ...(await defaults.getMetricsAsJSON()).map((m) => m.name),
    ]);
    const missing = DAEMON_METRIC_NAMES.filter((n) => !exported.has(n));
    assert.deepEqual(missing, []);
  });

  it('every dashboard expression parses (promtool check rules)', { skip: toolMissing('promtool') }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-promql-'));
    try {
      const file = join(dir, 'dashboards.rules.yml');
      const rules = promExprs.map(({ expr }, i) => ({
        record: `dashboard:query_${i}`,
        expr: withGrafanaVariables(expr),
      }));
      writeFileSync(file, stringify({ groups: [{ name: 'dashboards', rules }] }));
      const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the dashboards (deploy/grafana/dashboards)', () => {
  const provisioned = readYaml<{ datasources: Array<{ uid: string; type: string }> }>(
    'deploy/grafana/provisioning/datasources/pipeline.yaml',
  ).datasources;

  it('refer only to provisioned datasources, with unique panel ids and dashboard uids', () => {
    const byUid = new Map(provisioned.map((d) => [d.uid, d.type]));
    for (const [file, d] of dashboards) {
      const panels = panelsOf(d);
      assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, `${file}: panel ids are unique`);
      for (const panel of panels.filter((p) => p.type !== 'row')) {
        for (const ds of [panel.datasource, ...(panel.targets ?? []).map((t) => t.datasource)]) {
          assert.ok(ds, `${file} "${panel.title}": has a datasource`);
          assert.equal(
            byUid.get(ds.uid),
            ds.type,
            `${file} "${panel.title}": datasource ${ds.uid}/${ds.type} is provisioned`,
          );
        }
        assert.ok((panel.targets ?? []).length > 0, `${file} "${panel.title}": has a query`);
      }
    }
    assert.equal(new Set([...dashboards.values()].map((d) => d.uid)).size, dashboards.size);
  });

  it('lay the business dashboard out like the original BI pages', () => {
    const rows = dashboard('business.json')
      .panels.filter((p) => p.type === 'row')
      .map((p) => p.title);
    assert.deepEqual(rows, [
      'Executive summary',
      'Product analysis',
      'Customer insights',
      'Geography and trends',
    ]);
    const titles = panelsOf(dashboard('business.json')).map((p) => p.title);
    for (const kpi of ['Revenue', 'Orders', 'Average order value', 'Profit margin'])
      assert.ok(titles.includes(kpi), `KPI ${kpi}`);
  });
});

/** Grafana's SQL macros, expanded as Grafana's PostgreSQL datasource does, over a wide range. */
function withoutGrafanaMacros(
  sql: string,
  range = { from: '1970-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' },
): string {
  const plain = sql
    .replace(/\$__timeFilter\(([^)]*)\)/g, `$1 BETWEEN '${range.from}' AND '${range.to}'`)
    .replace(/\$__timeFrom\(\)/g, `'${range.from}'::timestamptz`)
    .replace(/\$__timeTo\(\)/g, `'${range.to}'::timestamptz`);
  assert.doesNotMatch(plain, /\$/, `a Grafana macro is left in: ${plain}`);
  return plain;
}

/** A tiny star: two days, three sales, a customer who moved city (two SCD2 versions). */
const WAREHOUSE_FIXTURE = `
INSERT INTO warehouse.dim_date VALUES
  (20260101, '2026-01-01', 2026, 1, 1, 1, 'January', 'Thursday', 1, false),
  (20260102, '2026-01-02', 2026, 1, 1, 2, 'January', 'Friday', 1, false);
INSERT INTO warehouse.dim_payment_method (payment_method_key, payment_method_name, payment_type) VALUES (1, 'UPI', 'Digital');
INSERT INTO warehouse.dim_customers
  (customer_key, customer_id, full_name, email, city, state, country, age_group, customer_segment, registration_date, effective_date, end_date, is_current)
VALUES
  (1, 'CUST0001', 'Asha Rao', 'asha@example.com', 'Pune', 'Maharashtra', 'India', '26-35', 'Regular', '2025-01-01', '2025-01-01', '2026-01-02', false),
  (2, 'CUST0001', 'Asha Rao', 'asha@example.com', 'Mumbai', 'Maharashtra', 'India', '26-35', 'Regular', '2025-01-01', '2026-01-02', '9999-12-31', true),
  (3, 'CUST0002', 'Ravi Das', 'ravi@example.com', 'Kolkata', 'West Bengal', 'India', '36-45', 'New', '2025-06-01', '2025-06-01', '9999-12-31', true);
INSERT INTO warehouse.dim_products (product_key, product_id, product_name, category, sub_category, brand, price_range, effective_date, is_current)
VALUES (1, 'PROD0001', 'Phone', 'Electronics', 'Mobiles', 'Acme', 'Mid', '2025-01-01', true);
INSERT INTO warehouse.fact_sales
  (item_id, date_key, customer_key, product_key, payment_method_key, transaction_id, quantity, unit_price, discount_amount, line_total, profit, discount_percentage)
VALUES
  ('ITEM00001', 20260101, 1, 1, 1, 'TXN00001', 2, 100.00, 20.00, 180.00, 80.00, 10),
  ('ITEM00002', 20260102, 2, 1, 1, 'TXN00002', 1, 100.00, 0.00, 100.00, 50.00, 0),
  ('ITEM00003', 20260102, 3, 1, 1, 'TXN00003', 1, 100.00, 0.00, 100.00, 50.00, 0);
INSERT INTO warehouse.agg_daily_sales VALUES (20260101, 1, 180.00, 80.00, 1), (20260102, 2, 200.00, 100.00, 2);
INSERT INTO warehouse.agg_product_performance VALUES (1, 4, 380.00, 180.00, 3.33);
INSERT INTO warehouse.agg_customer_metrics VALUES (1, 1, 180.00, 180.00, '2026-01-01'), (2, 1, 100.00, 100.00, '2026-01-02'), (3, 1, 100.00, 100.00, '2026-01-02');
`;

describe('SQL panels of the business dashboard on a migrated PostgreSQL', { skip: needsPostgres }, () => {
  let database: TestDatabase;
  const sqlPanels = queryPanels(dashboard('business.json'), 'pipeline-postgres');

  before(async () => {
    database = await freshPostgres();
  });
  after(async () => {
    await database?.dispose();
  });

  it('every query runs on an empty warehouse', async () => {
    assert.ok(sqlPanels.length >= 16, `expected the business panels, found ${sqlPanels.length}`);
    for (const { panel, target } of sqlPanels) {
      await database.db.pool.query(withoutGrafanaMacros(target.rawSql ?? '')).catch((error: Error) => {
        throw new Error(`"${panel.title}": ${error.message}`);
      });
    }
  });

  it('every query returns rows once the warehouse has sales, and the KPIs add up', async () => {
    await database.db.pool.query(WAREHOUSE_FIXTURE);
    const results = new Map<string, Array<Record<string, unknown>>>();
    for (const { panel, target } of sqlPanels) {
      const { rows } = await database.db.pool.query<Record<string, unknown>>(
        withoutGrafanaMacros(target.rawSql ?? ''),
      );
      assert.ok(rows.length > 0, `"${panel.title}" returned no rows`);
      if (target.format === 'time_series')
        assert.ok(
          rows.every((r) => r.time instanceof Date),
          `"${panel.title}": time_series needs a timestamp column "time"`,
        );
      results.set(panel.title, rows);
    }
    assert.deepEqual(results.get('Revenue'), [{ revenue: '380.00' }]);
    assert.deepEqual(results.get('Orders'), [{ orders: '3' }]);
    // The time picker filters by sale date: 2 January alone has two sales of 100.
    const revenue = sqlPanels.find(({ panel }) => panel.title === 'Revenue')!.target.rawSql ?? '';
    const { rows: secondDay } = await database.db.pool.query(
      withoutGrafanaMacros(revenue, { from: '2026-01-02T00:00:00Z', to: '2026-01-02T23:59:59Z' }),
    );
    assert.deepEqual(secondDay, [{ revenue: '200.00' }]);
    assert.equal(Number(results.get('Average order value')![0]!.average_order_value).toFixed(2), '126.67');
    assert.equal(Number(results.get('Profit margin')![0]!.margin).toFixed(4), '0.4737');
    // The customer who moved counts once, under the current version, with both sales.
    const top = results.get('Top customers by lifetime value')!;
    assert.deepEqual(
      top.map((r) => [r.customer_id, r.city, r.lifetime_value]),
      [
        ['CUST0001', 'Mumbai', '280.00'],
        ['CUST0002', 'Kolkata', '100.00'],
      ],
    );
    // Geography as of the sale: Pune's sale stays in Pune.
    assert.deepEqual(
      results.get('Top cities')!.map((r) => [r.city, r.revenue]),
      [
        ['Pune', '180.00'],
        ['Kolkata', '100.00'],
        ['Mumbai', '100.00'],
      ],
    );
    assert.deepEqual(
      results.get('Discount impact')!.map((r) => [r.discount, r.units]),
      [
        ['0 %', '2'],
        ['10 %', '2'],
      ],
    );
  });
});
