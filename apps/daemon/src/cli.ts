#!/usr/bin/env -S node --max-semi-space-size=4
import 'reflect-metadata';
import { hostname } from 'node:os';
import { NestFactory } from '@nestjs/core';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, scrubSecrets } from '../../../libs/config/index.js';
import {
  DataDirLockedError,
  MigrationError,
  migrate,
  migrationStatus,
} from '../../../libs/database/index.js';
import {
  CancelRefusedError,
  PipelineKernel,
  PluginLoadError,
  RunCancellations,
  RunDateTakenError,
  RunLockedError,
  RunHistory,
  RunRequestError,
  StageRegistryError,
  datesBetween,
  isIsoDate,
  refusedRunDate,
  type KernelRuntime,
  type RunFilter,
  type RunReport,
  type RunRequest,
} from '../../../libs/kernel/index.js';
import { LOG_LEVELS, readRunLog, type LogLevel } from '../../../libs/logging/index.js';
import { AppModule } from './app.module.js';
import { showProgress } from './progress.js';
import { formatPlugins, formatRun, formatRunPage, formatStages } from './tables.js';
import { runFilterOf, runListQuery, runStatus, runTrigger } from './http/api-schemas.js';
import { createRuntime } from './runtime.js';
import { schemaOwners } from './schema.js';
import { scaffoldPlugin, ScaffoldError } from './plugin-scaffold.js';
import { serve } from './serve.js';

/** Exit codes: 0 success, 1 the run failed, 2 bad usage or configuration, 3 another run holds the lock. */
const EXIT = { ok: 0, failed: 1, usage: 2, locked: 3 } as const;

class UsageError extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Lines `pipeline logs` reads from the run store at a time. */
const LOG_PAGE_LINES = 1_000;

/**
 * Once a command is done, the process exits even if something is left that cannot be interrupted
 * (a file system call of a stage told to stop, blocked in the thread pool): the command's own
 * work, its report and its database sessions are finished by then.
 */
const EXIT_AFTER_MS = 2_000;

function dateArg(value: string): string {
  if (!isIsoDate(value)) throw new InvalidArgumentError('expected a date YYYY-MM-DD');
  return value;
}

/**
 * Refuses business dates outside `pipeline.run_date_window` as usage errors, before anything is
 * opened (the run service refuses them too, for the API and the schedule).
 */
function assertRunDates(...dates: readonly (string | undefined)[]): void {
  const config = loadConfig();
  for (const date of dates) {
    const refusal = date === undefined ? null : refusedRunDate(date, config);
    if (refusal) throw new UsageError(refusal);
  }
}

/**
 * A whole-number option in [min, max]: `abc`, `1.5`, `2x`, `-3` and values past `max` are usage
 * errors naming the option (commander's message), never truncated or passed on to SQL as NaN.
 */
function wholeNumberArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d{1,9}$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max))
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

interface RunsOptions {
  status?: string;
  trigger?: string;
  from?: string;
  to?: string;
  failedStage?: string;
  before?: string;
  limit: number;
  json?: boolean;
}

/** The CLI's filter of the run history, validated by the same schema as GET /runs' query. */
function runFilterOfOptions(opts: RunsOptions): RunFilter {
  const option: Record<string, string> = {
    status: '--status',
    trigger: '--trigger',
    run_date_from: '--from',
    run_date_to: '--to',
    failed_stage: '--failed-stage',
    before: '--before',
    limit: '--limit',
  };
  const parsed = runListQuery.safeParse({
    status: opts.status,
    trigger: opts.trigger,
    run_date_from: opts.from,
    run_date_to: opts.to,
    failed_stage: opts.failedStage,
    before: opts.before,
    limit: opts.limit,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    // The schema speaks of query parameters; an operator at the CLI typed options.
    const message = Object.entries(option).reduce(
      (m, [name, flag]) => m.replace(new RegExp(`(?<!\\w)${name}(?!\\w)`, 'g'), flag),
      issue.message,
    );
    throw new UsageError(key in option ? `${option[key]}: ${message}` : message);
  }
  return runFilterOf(parsed.data);
}

function listArg(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

async function withKernel<T>(
  /** `kernelSchema: 'required'`: without migrating, refuse a database the kernel's are not all applied to. */
  options: { migrate: boolean; kernelSchema?: 'required'; json?: boolean },
  fn: (kernel: PipelineKernel, runtime: KernelRuntime) => Promise<T>,
): Promise<T> {
  const runtime = await createRuntime({
    migrate: options.migrate,
    applicationName: 'pipeline-cli',
    logDestination: options.json ? process.stderr : undefined,
  });
  if (options.kernelSchema === 'required') {
    const pending = await migrationStatus(runtime.db, schemaOwners([]))
      .then((statuses) => statuses.flatMap((s) => s.pending))
      .catch(async (error: unknown) => {
        await runtime.db.close().catch(() => undefined);
        throw error;
      });
    if (pending.length > 0) {
      await runtime.db.close();
      throw new UsageError(
        `the database lacks the kernel's migrations ${pending.join(', ')}: run \`pipeline migrate\` first`,
      );
    }
  }
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(runtime, { http: false }), {
    logger: false,
  }).catch(async (error: unknown) => {
    await runtime.db.close().catch(() => undefined);
    throw error;
  });
  const kernel = app.get(PipelineKernel);
  const stopOnSignal = stopRunOnSignal(kernel);
  try {
    return await fn(kernel, runtime);
  } finally {
    stopOnSignal.remove();
    await app.close();
    await runtime.db.close();
  }
}

/**
 * Ctrl-C or SIGTERM while a command runs the pipeline stops the run at once, as the daemon does
 * once its grace period is over: its statements are cancelled on the server, it is recorded as
 * interrupted and the command exits 1. A second signal ends the process without waiting.
 */
function stopRunOnSignal(kernel: PipelineKernel): { remove(): void } {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const remove = (): void => {
    for (const signal of signals) process.off(signal, onSignal);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    remove();
    process.stderr.write(`pipeline: ${signal}: stopping the run\n`);
    void kernel.runs.shutdown(0);
  };
  for (const signal of signals) process.on(signal, onSignal);
  return { remove };
}

async function runOnce(kernel: PipelineKernel, request: RunRequest): Promise<RunReport> {
  const started = await kernel.runs.start(request);
  const stopProgress = showProgress(kernel.runs, started.stages.length);
  try {
    return await started.done;
  } finally {
    stopProgress();
  }
}

export function buildCli(): Command {
  let exitCode: number = EXIT.ok;
  const program = new Command('pipeline')
    .description('E-commerce data pipeline daemon: stages, runs, schedule, warehouse')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('run the pipeline once (all enabled stages, or a selection)')
    .option('--only <stages>', 'run only these stages (comma-separated)', listArg)
    .option('--from <stage>', 'run from this stage on')
    .option(
      '--resume [runId]',
      'continue a failed, abandoned, interrupted or cancelled run (default: the latest) from its first unfinished stage',
    )
    .option(
      '--date <YYYY-MM-DD>',
      'business date of the run (default: today in the scheduler time zone)',
      dateArg,
    )
    .action(async (opts: { only?: string[]; from?: string; resume?: string | boolean; date?: string }) => {
      if ([opts.only, opts.from, opts.resume].filter(Boolean).length > 1)
        throw new UsageError('give only one of --only, --from, --resume');
      const resume =
        opts.resume === true ? 'latest' : typeof opts.resume === 'string' ? opts.resume : undefined;
      assertRunDates(opts.date);
      const report = await withKernel({ migrate: true }, (kernel) =>
        runOnce(kernel, { trigger: 'cli', only: opts.only, from: opts.from, resume, runDate: opts.date }),
      );
      exitCode = report.status === 'succeeded' ? EXIT.ok : EXIT.failed;
    });

  program
    .command('backfill')
    .description('run the pipeline once per business date, oldest first, one at a time')
    .requiredOption('--from <YYYY-MM-DD>', 'first date', dateArg)
    .requiredOption('--to <YYYY-MM-DD>', 'last date', dateArg)
    .option('--dry-run', 'list what would run, run nothing')
    .option('--redo', 'also run dates that already succeeded')
    .action(async (opts: { from: string; to: string; dryRun?: boolean; redo?: boolean }) => {
      if (opts.from > opts.to) throw new UsageError(`--from ${opts.from} is after --to ${opts.to}`);
      assertRunDates(opts.from, opts.to);
      if (datesBetween(opts.from, opts.to).length > 3660)
        throw new UsageError('a backfill covers at most ten years');
      await withKernel({ migrate: !opts.dryRun }, async (kernel) => {
        const plan = await kernel.runs.backfillPlan(opts.from, opts.to, opts.redo === true);
        for (const { date, action, reason } of plan) {
          if (action === 'skip') {
            process.stdout.write(`${date} skip (${reason}; --redo to run again)\n`);
            continue;
          }
          if (opts.dryRun) {
            process.stdout.write(
              `${date} would run (${reason}): ${kernel.runs
                .plan('backfill', {})
                .map((s) => s.name)
                .join(', ')}\n`,
            );
            continue;
          }
          const report = await runOnce(kernel, { trigger: 'backfill', runDate: date });
          process.stdout.write(`${date} ${report.status} (run ${report.run_id}; ${reason})\n`);
          if (report.status !== 'succeeded') {
            exitCode = EXIT.failed;
            process.stderr.write(
              `backfill stopped at ${date}: fix and run the backfill again (dates that succeeded with the same input are skipped)\n`,
            );
            return;
          }
        }
      });
    });

  for (const [name, stage, description] of [
    ['generate', 'data-generation', 'generate the synthetic raw CSV files'],
    ['monitor', 'monitoring', 'check data and pipeline health now'],
    ['cleanup', 'cleanup', 'apply the retention policy now'],
  ] as const) {
    program
      .command(name)
      .description(`${description} (same as: run --only ${stage})`)
      .option('--date <YYYY-MM-DD>', 'business date', dateArg)
      .action(async (opts: { date?: string }) => {
        assertRunDates(opts.date);
        const report = await withKernel({ migrate: true }, (kernel) =>
          runOnce(kernel, { trigger: 'cli', only: [stage], runDate: opts.date }),
        );
        exitCode = report.status === 'succeeded' ? EXIT.ok : EXIT.failed;
      });
  }

  program
    .command('migrate')
    .description('apply pending schema migrations (under an advisory lock)')
    .option('--status', 'show applied and pending migrations, apply nothing')
    .action(async (opts: { status?: boolean }) => {
      const runtime = await createRuntime({ migrate: false, applicationName: 'pipeline-migrate' });
      try {
        if (opts.status) {
          // One history per owner: the kernel's, then each plugin's in the order they migrate.
          for (const status of await migrationStatus(runtime.db, schemaOwners(runtime.plugins)))
            process.stdout.write(
              `${status.owner} (${status.table}): applied ${status.applied.length}, pending: ${status.pending.join(', ') || 'none'}\n`,
            );
        } else {
          const applied = await migrate(runtime.db, schemaOwners(runtime.plugins));
          process.stdout.write(
            applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n',
          );
        }
      } finally {
        await runtime.db.close();
      }
    });

  program
    .command('serve')
    .description('run the daemon: schedule, HTTP API, health and metrics')
    .action(async () => {
      const config = loadConfig();
      const runtime = await createRuntime(
        { migrate: config.database.migrate_on_start, applicationName: 'pipeline-daemon' },
        config,
      );
      await serve(runtime);
    });

  program
    .command('runs [id]')
    .description(
      'show the run history, newest first and filtered as GET /runs filters it, or one run in full',
    )
    .option('--status <status>', `only runs with this status (${runStatus.options.join(', ')})`)
    .option('--trigger <trigger>', `only runs started so (${runTrigger.options.join(', ')})`)
    .option('--from <YYYY-MM-DD>', 'business dates from this one')
    .option('--to <YYYY-MM-DD>', 'business dates up to this one')
    .option('--failed-stage <stage>', 'only runs in which this stage failed')
    .option('--before <cursor>', 'runs older than this cursor (the next page, as the last page printed it)')
    .option('--limit <n>', 'how many runs (1 to 500)', wholeNumberArg(1, 500), 20)
    .option('--json', 'print JSON: the run, or the page {runs, total, limit, next_before}')
    .action(async (id: string | undefined, opts: RunsOptions) => {
      // commander sets only the options given, and --limit and --json are not filters.
      if (id && Object.keys(opts).some((key) => key !== 'limit' && key !== 'json'))
        throw new UsageError('give a run id or filters, not both');
      const filter = id ? null : runFilterOfOptions(opts);
      // Reading changes nothing: no migrations (see cancel).
      await withKernel({ migrate: false, kernelSchema: 'required', json: opts.json }, async (kernel) => {
        if (id) {
          if (!/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError('a run id is a UUID');
          const run = await kernel.store.get(id);
          if (!run) throw new UsageError(`no run ${id}`);
          process.stdout.write(opts.json ? `${JSON.stringify(run, null, 2)}\n` : formatRun(run));
        } else {
          const { runs, total, next } = await new RunHistory(kernel.db.pool).find(filter!);
          const page = { runs, total, limit: filter!.limit, next_before: next?.encode() ?? null };
          process.stdout.write(opts.json ? `${JSON.stringify(page, null, 2)}\n` : formatRunPage(page));
        }
      });
    });

  program
    .command('plugin')
    .description('work on plugin packages')
    .command('new <name>')
    .description(
      'write a new plugin package (manifest, stage, migration, README, test) that builds and passes its test',
    )
    .option('--dir <folder>', 'where to write it (default: ./<name without scope>)')
    .action((name: string, opts: { dir?: string }) => {
      const dir = opts.dir ?? name.replace(/^@[^/]+\//, '');
      const files = scaffoldPlugin(name, dir);
      process.stdout.write(`wrote ${files.length} files to ${dir}: ${files.join(', ')}\n`);
    });

  program
    .command('plugins')
    .description('list the loaded plugins: version, kernel API range, stages, migrations')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withKernel({ migrate: false, json: opts.json }, async (kernel) => {
        const plugins = await kernel.describePlugins();
        process.stdout.write(opts.json ? `${JSON.stringify(plugins, null, 2)}\n` : formatPlugins(plugins));
      });
    });

  program
    .command('cancel <id>')
    .description('ask a running run to stop, wherever it runs; it ends cancelled within a heartbeat')
    .action(async (id: string) => {
      if (!UUID.test(id)) throw new UsageError('a run id is a UUID');
      // Asking a run to stop changes no schema: an operator's cancel must not migrate the database
      // under the daemons that run it. It needs the kernel's tables as this version knows them.
      await withKernel({ migrate: false, kernelSchema: 'required' }, async (kernel) => {
        try {
          const request = await new RunCancellations(
            kernel.db.pool,
            kernel.config.pipeline.heartbeat_interval_ms,
          ).request(id, `cli on ${hostname()}`);
          process.stdout.write(
            `${request.alreadyRequested ? 'cancel already requested' : 'cancel requested'} for run ${id} at ${request.requestedAt.toISOString()}\n`,
          );
        } catch (error) {
          if (error instanceof CancelRefusedError && error.reason === 'unknown')
            throw new UsageError(error.message);
          if (error instanceof CancelRefusedError) {
            process.stderr.write(`${error.message}\n`);
            exitCode = EXIT.failed;
            return;
          }
          throw error;
        }
      });
    });

  program
    .command('logs <id>')
    .description("print a run's own log lines, optionally of one stage and attempt")
    .option('--stage <name>', 'only this stage')
    .option('--attempt <n>', 'only this attempt', wholeNumberArg(1, 1_000_000))
    .option('--level <level>', 'this level and above (debug, info, warn, error)')
    .option('--json', 'print JSON lines')
    .action(
      async (id: string, opts: { stage?: string; attempt?: number; level?: string; json?: boolean }) => {
        if (!UUID.test(id)) throw new UsageError('a run id is a UUID');
        if (opts.level !== undefined && !LOG_LEVELS.includes(opts.level as LogLevel))
          throw new UsageError(`--level is one of ${LOG_LEVELS.join(', ')}`);
        // Reading changes nothing: no migrations (see cancel).
        await withKernel({ migrate: false, kernelSchema: 'required', json: opts.json }, async (kernel) => {
          if (!(await kernel.store.get(id))) throw new UsageError(`no run ${id}`);
          const filter = {
            stage: opts.stage,
            attempt: opts.attempt,
            level: opts.level as LogLevel | undefined,
          };
          // A page at a time: a run may keep a great many lines.
          for (let after: number | null = 0; after !== null;) {
            const page = await readRunLog(kernel.db.pool, id, filter, { after, limit: LOG_PAGE_LINES });
            for (const line of page.lines)
              process.stdout.write(
                opts.json
                  ? `${JSON.stringify(line)}\n`
                  : `${line.at} ${line.level.padEnd(5)} ${line.stage ? `[${line.stage}${line.attempt ? ` #${line.attempt}` : ''}] ` : ''}${line.message}${line.fields ? ` ${JSON.stringify(line.fields)}` : ''}\n`,
              );
            after = page.nextAfter;
          }
        });
      },
    );

  program
    .command('stages')
    .description('list the registered stages in run order')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withKernel({ migrate: false, json: opts.json }, async (kernel) => {
        const stages = kernel.registry.ordered;
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(
                stages.map((s) => ({
                  name: s.name,
                  depends_on: s.dependsOn,
                  phase: s.phase,
                  enabled: s.enabled,
                  description: s.description,
                })),
                null,
                2,
              )}\n`
            : formatStages(stages),
        );
      });
    });

  program.hook('postAction', () => {
    process.exitCode = exitCode;
  });
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildCli();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = report(error);
  }
  setTimeout(() => process.exit(), EXIT_AFTER_MS).unref();
}

function report(error: unknown): number {
  const code = (error as { code?: string }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help')
    return EXIT.ok;
  if (typeof code === 'string' && code.startsWith('commander.')) return EXIT.usage;
  let secrets: ReturnType<typeof loadConfig>['secrets'] = [];
  try {
    secrets = loadConfig().secrets;
  } catch {
    // the config itself is what failed; its error message never carries a secret value
  }
  const message = scrubSecrets(error instanceof Error ? error.message : String(error), secrets);
  process.stderr.write(`pipeline: ${message}\n`);
  if (error instanceof RunLockedError) return EXIT.locked;
  if (error instanceof RunDateTakenError) return EXIT.locked;
  if (
    error instanceof ConfigError ||
    error instanceof UsageError ||
    error instanceof RunRequestError ||
    error instanceof StageRegistryError ||
    error instanceof PluginLoadError ||
    error instanceof MigrationError ||
    error instanceof ScaffoldError ||
    error instanceof DataDirLockedError
  ) {
    return EXIT.usage;
  }
  return EXIT.failed;
}

await main(process.argv);
