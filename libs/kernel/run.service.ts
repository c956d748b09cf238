import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { scrubSecrets, withoutDataDir, type AppConfig } from '../config/index.js';
import type { Database } from '../database/index.js';
import { DEFAULT_RUN_LOG_LIMITS, recordingLogger, RunLogSink, type Logger } from '../logging/index.js';
import type { PipelineMetrics } from '../metrics/index.js';
import { businessDate, datesBetween, refusedRunDate } from './business-date.js';
import { FencedError } from './errors.js';
import { FaultPoints } from './fault-points.js';
import { cancelSummary, fenceRunRecord, RunCancellations } from './run-cancellation.js';
import type { RunLease, RunLock } from './run-lock.js';
import { stageReport, withEveryString, type RunReport, type RunStatus } from './run-report.js';
import { RunDateTakenError, type RunRepository } from './run.repository.js';
import { recordWithRetries, runObservers } from './run-observers.js';
import { RUN_REPORT_FOLDER, stageContexts, stagePaths } from './stage-contexts.js';
import { WrittenFiles } from './written-files.js';
import { executeStages, systemClock, type Clock } from './stage-executor.js';
import { StageRegistryError, type RegisteredStage, type StageRegistry } from './stage-registry.js';
import type { RunTrigger, StageOutcome, StageTransaction } from './stage.js';

export interface RunRequest {
  readonly trigger: RunTrigger;
  /** Business date; defaults to today in the scheduler's time zone. */
  readonly runDate?: string;
  /** Run just these stages (any phase), in registry order. */
  readonly only?: readonly string[];
  /** Run this main stage and every main stage after it, then the `finally` stages. */
  readonly from?: string;
  /** The cron tick a scheduled run is for (default: midnight UTC of the run date). */
  readonly scheduledFor?: Date;
  /** Continue a failed, abandoned, interrupted or cancelled run (`latest` or its id) from its first unfinished stage. */
  readonly resume?: string;
}

/** SQLSTATE undefined_table. */
const UNDEFINED_TABLE = '42P01';

/** Another process (or this one) holds the run lock: HTTP 409, CLI exit code 3. */
export class RunLockedError extends Error {
  override readonly name = 'RunLockedError';
  constructor() {
    super('another run holds the run lock');
  }
}

/** The request itself is wrong (unknown stage, bad date, nothing to resume): HTTP 400. */
export class RunRequestError extends Error {
  override readonly name = 'RunRequestError';
}

/** One date of a backfill (`RunService.backfillPlan`). */
export interface BackfillDate {
  readonly date: string;
  readonly action: 'run' | 'skip';
  readonly reason: string;
}

export interface StartedRun {
  readonly runId: string;
  readonly runDate: string;
  readonly stages: readonly string[];
  readonly done: Promise<RunReport>;
}

export interface ActiveRun {
  readonly runId: string;
  readonly runDate: string;
  readonly trigger: RunTrigger;
  readonly startedAt: string;
  /** The stage running now; while a gate and the stage it gates run side by side, both (`a, b`). */
  stage: string | null;
}

export interface RunServiceDeps {
  readonly db: Database;
  readonly registry: StageRegistry;
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly lock: RunLock;
  readonly store: RunRepository;
  readonly codeVersion: string;
  /** The version of each loaded plugin package, by name (run reports carry them). */
  readonly pluginVersions?: Readonly<Record<string, string>>;
  readonly clock?: Clock;
  readonly faults?: FaultPoints;
}

/**
 * Runs the pipeline: takes the run lock, records the run, executes the planned stages with
 * retries, keeps a heartbeat, and writes the report. Events (`stage`, `attempt`, `finished`)
 * drive the CLI's progress display.
 */
export class RunService extends EventEmitter {
  private active: ActiveRun | null = null;
  private readonly shutdownController = new AbortController();
  private running: Promise<unknown> | null = null;
  /** The latest `pipelineHealthOutput` a stage handed on (readiness shows it). */
  lastHealth: Readonly<Record<string, unknown>> | null = null;
  /** The data folder. */
  readonly dataDir: string;
  private readonly writtenFiles: WrittenFiles;

  constructor(private readonly deps: RunServiceDeps) {
    super();
    this.dataDir = deps.config.dataDir;
    this.writtenFiles = new WrittenFiles(deps.config.dataDir, deps.config.pipeline.written_files);
  }

  get current(): ActiveRun | null {
    return this.active;
  }

  /** Resolves once the run holds the lock and is recorded; `done` settles when it ends. */
  async start(request: RunRequest): Promise<StartedRun> {
    if (this.shutdownController.signal.aborted) throw new RunLockedError();
    const { store, metrics, logger } = this.deps;
    let runDate = request.runDate ?? businessDate(new Date(), this.deps.config.scheduler.timezone);
    this.assertRunDateAccepted(runDate);
    let stages = request.resume ? [] : this.plan(request.trigger, request);

    const lease = await this.deps.lock.tryAcquire();
    if (!lease) {
      metrics.lockContended.inc();
      await store
        .recordSkip(request.trigger, runDate, 'lock held by another run', hostname(), process.pid)
        .catch(() => undefined);
      logger.info('run not started: another run holds the lock', { trigger: request.trigger, runDate });
      throw new RunLockedError();
    }
    const runId = randomUUID();
    const owner = randomUUID();
    let resumed: { runId: string; runDate: string; from: string } | null = null;
    try {
      const abandoned = await store.abandonOrphans();
      if (abandoned.length) {
        metrics.runsTotal.inc({ status: 'abandoned' }, abandoned.length);
        logger.warn('marked runs of dead processes as abandoned', { runs: abandoned });
      }
      // Looked up only under the lock, after orphans are marked: the run of a process that was
      // killed is still `running` until now, and it is exactly the one to resume.
      if (request.resume) {
        resumed = await this.findResumable(request.resume);
        runDate = resumed.runDate;
        this.assertRunDateAccepted(runDate);
        stages = this.plan(request.trigger, { from: resumed.from });
      }
      await store.create({
        id: runId,
        trigger: request.trigger,
        runDate,
        scheduledFor:
          request.trigger === 'schedule' ? (request.scheduledFor ?? new Date(`${runDate}T00:00:00Z`)) : null,
        owner,
        host: hostname(),
        pid: process.pid,
        requestedStages: request.only ?? (request.from ? [`from:${request.from}`] : null),
        resumedFrom: resumed?.runId ?? null,
        codeVersion: this.deps.codeVersion,
        configHash: this.deps.config.hash,
        stages: stages.map((s) => s.name),
      });
    } catch (error) {
      await lease.release();
      if (error instanceof RunDateTakenError) {
        await store
          .recordSkip(request.trigger, runDate, 'scheduled run for this date exists', hostname(), process.pid)
          .catch(() => undefined);
      }
      throw error;
    }
    this.active = {
      runId,
      runDate,
      trigger: request.trigger,
      startedAt: new Date().toISOString(),
      stage: null,
    };
    metrics.lockHeld.set(1);
    const done = this.execute({
      runId,
      owner,
      runDate,
      trigger: request.trigger,
      stages,
      lease,
      resumedFrom: resumed?.runId ?? null,
    });
    this.running = done.catch(() => undefined);
    return { runId, runDate, stages: stages.map((s) => s.name), done };
  }

  /** Starts a run and waits for its end. */
  async run(request: RunRequest): Promise<RunReport> {
    return (await this.start(request)).done;
  }

  /**
   * Stops taking runs; gives the running stage `graceMs` to finish, then aborts it (the run is
   * recorded as interrupted). Resolves when the run has released its lock.
   */
  async shutdown(graceMs: number): Promise<void> {
    const running = this.running;
    if (!running) {
      this.shutdownController.abort(new FencedError('the daemon is shutting down'));
      return;
    }
    const timer = setTimeout(
      () => this.shutdownController.abort(new FencedError('the daemon is shutting down')),
      graceMs,
    );
    await running;
    clearTimeout(timer);
    this.shutdownController.abort(new FencedError('the daemon is shutting down'));
  }

  /**
   * Throws a `RunRequestError` unless `date` is a business date a run may have: a real date
   * within `pipeline.run_date_window` around today in the scheduler's time zone.
   */
  private assertRunDateAccepted(date: string): void {
    const refusal = refusedRunDate(date, this.deps.config);
    if (refusal) throw new RunRequestError(refusal);
  }

  /** The stages of a run, in order; validates stage names against the registry. */
  plan(trigger: RunTrigger, request: Pick<RunRequest, 'only' | 'from'>): RegisteredStage[] {
    const { registry, config } = this.deps;
    try {
      if (request.only?.length) {
        const wanted = new Set(registry.requireAll(request.only).map((s) => s.name));
        return registry.ordered.filter((s) => wanted.has(s.name));
      }
      const main = registry.ordered.filter((s) => s.phase === 'main' && s.enabled);
      let start = 0;
      if (request.from) {
        const [from] = registry.requireAll([request.from]);
        if (from!.phase !== 'main')
          throw new RunRequestError(`--from needs a main stage; ${from!.name} is a ${from!.phase} stage`);
        start = Math.max(
          0,
          registry.ordered.filter((s) => s.phase === 'main').findIndex((s) => s.name === from!.name),
        );
        const allMain = registry.ordered.filter((s) => s.phase === 'main');
        const after = new Set(allMain.slice(start).map((s) => s.name));
        main.splice(0, main.length, ...main.filter((s) => after.has(s.name)));
      }
      const always = registry.ordered.filter((s) => s.phase === 'finally' && s.enabled);
      const maintenance =
        trigger === 'schedule' && config.scheduler.cleanup_after_run
          ? registry.ordered.filter((s) => s.phase === 'maintenance' && s.enabled)
          : [];
      return [...main, ...always, ...maintenance];
    } catch (error) {
      if (error instanceof StageRegistryError) throw new RunRequestError(error.message);
      throw error;
    }
  }

  /**
   * What a backfill of [from, to] does with each date: run it, or skip it because it already
   * succeeded with the input its stages fingerprint now (`PipelineStage.inputFingerprint`). A date
   * whose input changed since runs again, and says why; with `redo` every date runs.
   */
  async backfillPlan(from: string, to: string, redo: boolean): Promise<BackfillDate[]> {
    const dates = datesBetween(from, to);
    const succeeded = redo
      ? new Map<string, Map<string, string>>()
      : await this.deps.store.succeededInputs(from, to).catch((error: unknown) => {
          // A database not migrated yet (a dry run migrates nothing) has no run to skip.
          if ((error as { code?: unknown }).code === UNDEFINED_TABLE)
            return new Map<string, Map<string, string>>();
          throw error;
        });
    const fingerprinting = this.plan('backfill', {}).filter((s) => s.instance.inputFingerprint);
    const plan: BackfillDate[] = [];
    for (const date of dates) {
      const recorded = succeeded.get(date);
      if (redo) {
        plan.push({ date, action: 'run', reason: 'redo' });
        continue;
      }
      if (!recorded) {
        plan.push({ date, action: 'run', reason: 'no succeeded run' });
        continue;
      }
      let reason: string | null = null;
      for (const stage of fingerprinting) {
        const now = await stage.instance.inputFingerprint!({
          runDate: date,
          settings: stage.settings,
          paths: stagePaths(this.dataDir, stage.dataFolder, this.deps.config.pipeline.written_files),
        });
        const then = recorded.get(stage.name);
        if (now === null || now === then) continue;
        // A run of a version that kept no fingerprint cannot say what it read: run it once more.
        reason =
          then === undefined
            ? `its succeeded run recorded no input fingerprint (${stage.name})`
            : `its input changed since it succeeded (${stage.name})`;
        break;
      }
      plan.push(
        reason
          ? { date, action: 'run', reason }
          : { date, action: 'skip', reason: 'already succeeded with this input' },
      );
    }
    return plan;
  }

  private async findResumable(which: string): Promise<{ runId: string; runDate: string; from: string }> {
    const { store, registry } = this.deps;
    // Checked here: the database would answer a malformed id with a raw SQL error (22P02).
    if (
      which !== 'latest' &&
      !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(which)
    ) {
      throw new RunRequestError(`resume takes "latest" or a run id (a UUID), not "${which}"`);
    }
    const run = which === 'latest' ? await store.latestResumable() : await store.get(which);
    if (!run)
      throw new RunRequestError(
        which === 'latest'
          ? 'no failed, abandoned, interrupted or cancelled run to resume'
          : `no run ${which}`,
      );
    if (!['failed', 'abandoned', 'interrupted', 'cancelled'].includes(run.status)) {
      throw new RunRequestError(
        `run ${run.id} is ${run.status}; only failed, abandoned, interrupted or cancelled runs can be resumed`,
      );
    }
    const stages = await store.stagesOf(run.id);
    const unfinished = stages.find(
      (s) => s.status !== 'succeeded' && registry.get(s.stage)?.phase === 'main',
    );
    if (!unfinished) throw new RunRequestError(`run ${run.id} has no unfinished main stage to resume`);
    return { runId: run.id, runDate: run.run_date, from: unfinished.stage };
  }

  private async execute(run: {
    runId: string;
    owner: string;
    runDate: string;
    trigger: RunTrigger;
    stages: RegisteredStage[];
    lease: RunLease;
    resumedFrom: string | null;
  }): Promise<RunReport> {
    const { store, metrics, config, db } = this.deps;
    const clock = this.deps.clock ?? systemClock;
    const faults = this.deps.faults ?? new FaultPoints();
    // Every line of the run is also kept with the run, for `GET /runs/:id/logs`.
    const runLog = new RunLogSink(db.pool, run.runId, (text) => this.scrub(text), {
      ...DEFAULT_RUN_LOG_LIMITS,
      maxLines: config.pipeline.run_log_max_lines,
    });
    const logger = recordingLogger(this.deps.logger.child({ runId: run.runId }), runLog);
    const startedAt = new Date();
    const controller = new AbortController();
    const abort = (signal: AbortSignal) => () => controller.abort(signal.reason);
    run.lease.lost.addEventListener('abort', abort(run.lease.lost), { once: true });
    this.shutdownController.signal.addEventListener('abort', abort(this.shutdownController.signal), {
      once: true,
    });
    // A data folder that cannot be made fails the run like a stage would: recorded, lock released.
    let setupError: string | null = null;
    try {
      const folders = [RUN_REPORT_FOLDER, ...run.stages.flatMap((s) => (s.dataFolder ? [s.dataFolder] : []))];
      for (const folder of folders) mkdirSync(join(this.dataDir, folder), { recursive: true });
    } catch (error) {
      setupError = `data folder ${this.dataDir}: ${(error as Error).message}`;
    }

    const heartbeat = this.startHeartbeat(run.runId, run.owner, controller, logger);
    // An operator's cancel, from any replica, is read from the run store at the heartbeat's pace.
    const cancel = new AbortController();
    const cancelWatch = new RunCancellations(db.pool, config.pipeline.heartbeat_interval_ms).watch(
      run.runId,
      cancel,
    );
    const fence = async (tx: StageTransaction): Promise<void> => {
      await run.lease.fence(tx);
      await fenceRunRecord(tx, store, { runId: run.runId, owner: run.owner, cancel });
    };
    logger.info('run started', {
      trigger: run.trigger,
      runDate: run.runDate,
      stages: run.stages.map((s) => s.name),
    });

    const observer = runObservers({
      runId: run.runId,
      store,
      metrics,
      logger,
      scrub: (text) => this.scrub(text),
      emit: (event, payload) => this.emit(event, payload),
      setActiveStage: (stages) => {
        if (this.active && stages !== null) this.active.stage = stages;
      },
      onHealth: (verdict) => {
        this.lastHealth = verdict;
      },
      recordWritten: (files) => this.recordWritten(files, run.runId, logger),
    });

    let outcomes: StageOutcome[];
    try {
      const succeededBefore = setupError
        ? new Map<string, string>()
        : await store.succeededBefore(run.runDate);
      outcomes = await executeStages({
        stages: setupError ? [] : run.stages,
        signal: controller.signal,
        cancel: cancel.signal,
        observer,
        clock,
        settleGraceMs: config.pipeline.stop_grace_ms,
        gatesSideBySide: this.gatesSideBySide(),
        contextFor: stageContexts({
          run,
          config,
          db,
          dataDir: this.dataDir,
          logger,
          metrics,
          fence,
          faults,
          succeededBefore,
        }),
      });
    } finally {
      heartbeat.stop();
      cancelWatch.stop();
    }

    const status = setupError ? 'failed' : this.finalStatus(outcomes, controller.signal, cancel.signal);
    const finishedAt = new Date();
    const failed = outcomes.find((o) => o.status === 'failed');
    // Scrubbed whole: details and warnings may quote errors too (monitoring quotes the failed stage's).
    const report: RunReport = withEveryString((text) => this.scrub(text), {
      run_id: run.runId,
      trigger: run.trigger,
      run_date: run.runDate,
      status,
      started_at: startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      duration_ms: finishedAt.getTime() - startedAt.getTime(),
      code_version: this.deps.codeVersion,
      plugins: this.deps.pluginVersions ?? {},
      config_hash: config.hash,
      resumed_from: run.resumedFrom,
      stages: outcomes.map(stageReport),
      error: setupError
        ? setupError
        : failed
          ? `${failed.stage}: ${failed.error ?? 'failed'}`
          : controller.signal.aborted
            ? String((controller.signal.reason as Error)?.message ?? 'aborted')
            : status === 'cancelled'
              ? cancelSummary(cancel.signal.reason, outcomes)
              : null,
      warnings: outcomes.flatMap((o) => (o.result?.warnings ?? []).map((w) => `${o.stage}: ${w}`)),
    });
    try {
      const recorded = await recordWithRetries(
        () => store.finish(run.runId, run.owner, status, report),
        'the end of the run',
        logger,
      ).catch((error: unknown) => {
        logger.error('run end not recorded: the run store refused it', { status, error: error as Error });
        return null;
      });
      if (recorded === false) logger.warn('run end not recorded: the run is no longer ours', { status });
      try {
        this.recordWritten([this.writeReportFile(report)], run.runId, logger);
      } catch (error) {
        logger.warn('could not write the run report file', { error: error as Error });
      }
      metrics.runsTotal.inc({ status });
      metrics.runDuration.observe(report.duration_ms! / 1000);
      if (status === 'succeeded') metrics.lastSuccess.set(finishedAt.getTime() / 1000);
      logger.info('run finished', { status, durationMs: report.duration_ms, error: report.error });
    } finally {
      await run.lease.release();
      metrics.lockHeld.set(0);
      // After the lock is free (a client that saw the run end may start the next at once), before
      // the run counts as over here: its last lines are kept by the time `done` resolves.
      await runLog.close();
      this.active = null;
      this.emit('finished', report);
    }
    return report;
  }

  /**
   * A gate and the stage it gates hold a pooled connection each for as long as both run; one more
   * stays free for the run store and the HTTP API. The embedded database has one connection.
   */
  private gatesSideBySide(): boolean {
    const { config, db } = this.deps;
    return config.pipeline.gates_side_by_side && db.kind === 'postgres' && config.database.pool_size >= 3;
  }

  private finalStatus(
    outcomes: readonly StageOutcome[],
    signal: AbortSignal,
    cancel: AbortSignal,
  ): RunStatus {
    if (signal.aborted && this.shutdownController.signal.aborted) return 'interrupted';
    const succeeded = outcomes.every((o) => o.status === 'succeeded');
    // A cancel that came after the last stage committed stopped nothing: the run succeeded.
    if (cancel.aborted && !succeeded) return 'cancelled';
    return succeeded ? 'succeeded' : 'failed';
  }

  private startHeartbeat(
    runId: string,
    owner: string,
    controller: AbortController,
    logger: Logger,
  ): { stop(): void } {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const beat = async (): Promise<void> => {
      if (stopped) return;
      try {
        const ours = await this.deps.store.heartbeat(runId, owner);
        if (!ours && !stopped) {
          logger.error('run taken away (marked abandoned elsewhere); stopping');
          controller.abort(new FencedError('the run was marked abandoned by another process'));
        }
      } catch (error) {
        logger.warn('heartbeat failed', { error: error as Error });
      }
      if (!stopped) timer = setTimeout(() => void beat(), this.deps.config.pipeline.heartbeat_interval_ms);
    };
    timer = setTimeout(() => void beat(), this.deps.config.pipeline.heartbeat_interval_ms);
    return {
      stop: () => {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  /** Writes the report file; returns its path relative to the data folder. */
  private writeReportFile(report: RunReport): string {
    const path = join(this.dataDir, RUN_REPORT_FOLDER, 'pipeline_execution_report.json');
    writeFileSync(`${path}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
    return relative(this.dataDir, path);
  }

  /**
   * Adds files the run wrote to the manifest cleanup reads. Not being able to is no reason to
   * fail the run: an unrecorded file is only never deleted.
   */
  private recordWritten(files: readonly string[], runId: string, logger: Logger): void {
    try {
      this.writtenFiles.record(files, runId);
    } catch (error) {
      logger.warn('could not record written files in the manifest; cleanup will keep them', {
        manifest: this.writtenFiles.manifest,
        error: error as Error,
      });
    }
  }

  /** Text kept in the run records, which `GET /runs` serves to anyone: no secret, no data folder path. */
  private scrub(text: string): string {
    return withoutDataDir(scrubSecrets(text, this.deps.config.secrets), this.dataDir);
  }
}
