import type {
  PluginReport,
  RegisteredStage,
  RunRow,
  RunSummary,
  StageRunRow,
} from '../../../libs/kernel/index.js';

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

const time = (d: Date | null): string => (d ? new Date(d).toISOString().replace('T', ' ').slice(0, 19) : '');
const seconds = (from: Date | null, to: Date | null): string =>
  from && to ? ((new Date(to).getTime() - new Date(from).getTime()) / 1000).toFixed(1) : '';

/** A page of the run history (`pipeline runs`), and how to ask for the next one. */
export function formatRunPage(page: {
  runs: RunSummary[];
  total: number;
  next_before: string | null;
}): string {
  if (!page.runs.length) return page.total ? 'no runs on this page\n' : 'no runs match\n';
  const runs = table(
    ['id', 'date', 'trigger', 'status', 'started (UTC)', 'seconds', 'error'],
    page.runs.map((r) => [
      r.id,
      r.run_date,
      r.trigger,
      r.status,
      time(r.started_at),
      seconds(r.started_at, r.finished_at),
      (r.error ?? '').slice(0, 60),
    ]),
  );
  const more = page.next_before ? `; older: the same command with --before ${page.next_before}` : '';
  return `${runs}${page.runs.length} of ${page.total} runs${more}\n`;
}

export function formatRun(run: RunRow & { stages: StageRunRow[] }): string {
  const head = `run ${run.id}\n  date ${run.run_date}  trigger ${run.trigger}  status ${run.status}\n  started ${time(run.started_at)}  finished ${time(run.finished_at)}\n  code ${run.code_version}  config ${run.config_hash.slice(0, 12)}${run.resumed_from ? `  resumed from ${run.resumed_from}` : ''}\n${run.error ? `  error: ${run.error}\n` : ''}\n`;
  return (
    head +
    table(
      ['stage', 'status', 'attempts', 'seconds', 'error'],
      run.stages.map((s) => [
        s.stage,
        s.status,
        String(s.attempts),
        s.duration_ms != null ? (s.duration_ms / 1000).toFixed(2) : '',
        (s.error ?? '').slice(0, 80),
      ]),
    )
  );
}

export function formatStages(stages: readonly RegisteredStage[]): string {
  return table(
    ['stage', 'phase', 'enabled', 'depends on', 'description'],
    stages.map((s) => [s.name, s.phase, s.enabled ? 'yes' : 'no', s.dependsOn.join(', '), s.description]),
  );
}

export function formatPlugins(plugins: readonly PluginReport[]): string {
  return table(
    ['plugin', 'version', 'kernel API', 'stages', 'reads', 'migrations applied', 'pending'],
    plugins.map((p) => [
      p.name,
      p.version,
      p.kernel_api,
      p.stages.join(', '),
      p.reads.join(', ') || '-',
      String(p.migrations.applied.length),
      p.migrations.pending.join(', ') || 'none',
    ]),
  );
}
