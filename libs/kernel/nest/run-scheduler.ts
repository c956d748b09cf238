import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { CronExpressionParser } from 'cron-parser';
import type { AppConfig } from '../../config/index.js';
import type { Logger } from '../../logging/index.js';
import { businessDate } from '../business-date.js';
import { RunDateTakenError } from '../run.repository.js';
import { RunLockedError } from '../run.service.js';
import { CONFIG, LOGGER } from './kernel.tokens.js';
import { PipelineKernel } from './pipeline-kernel.js';

/** `HH:MM` becomes a daily cron expression; anything else is taken as cron already. */
export function toCronExpression(schedule: string): string {
  const hhmm = /^(\d{1,2}):(\d{2})$/.exec(schedule);
  if (!hhmm) return schedule;
  const [hours, minutes] = [Number(hhmm[1]), Number(hhmm[2])];
  if (hours > 23 || minutes > 59) throw new Error(`scheduler.schedule: "${schedule}" is not a time of day`);
  return `${minutes} ${hours} * * *`;
}

/** The latest scheduled instant at or before `now` (catch-up looks at it). */
export function previousTick(expression: string, timeZone: string, now: Date): Date {
  return CronExpressionParser.parse(expression, { tz: timeZone, currentDate: now }).prev().toDate();
}

export const SCHEDULED_RUN_JOB = 'pipeline-scheduled-run';

/**
 * Daily runs under the distributed lock. A tick that finds the lock taken (another replica runs)
 * records a skip; a failed run is logged and recorded and the daemon keeps going. At start-up, a
 * missed tick is run (catch-up `latest`) unless a run for its business date exists.
 */
@Injectable()
export class RunScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private enabled = false;

  constructor(
    private readonly kernel: PipelineKernel,
    private readonly schedulerRegistry: SchedulerRegistry,
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Serve mode turns scheduling on; one-shot CLI commands never schedule. */
  enable(): void {
    this.enabled = true;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled || !this.config.scheduler.enabled) return;
    const { schedule, timezone } = this.config.scheduler;
    const expression = toCronExpression(schedule);
    const job = CronJob.from({
      cronTime: expression,
      timeZone: timezone,
      onTick: () => void this.tick(new Date()),
      start: true,
      waitForCompletion: true,
    });
    this.schedulerRegistry.addCronJob(SCHEDULED_RUN_JOB, job as never);
    this.logger.info('scheduler started', { schedule: expression, timezone, next: job.nextDate().toISO() });
    if (this.config.scheduler.catch_up === 'latest') void this.catchUp(expression, timezone);
  }

  onApplicationShutdown(): void {
    if (this.schedulerRegistry.doesExist('cron', SCHEDULED_RUN_JOB))
      this.schedulerRegistry.deleteCronJob(SCHEDULED_RUN_JOB);
  }

  private async catchUp(expression: string, timezone: string): Promise<void> {
    const missed = previousTick(expression, timezone, new Date());
    const runDate = businessDate(missed, timezone);
    try {
      if (await this.kernel.store.hasScheduledRun(runDate, missed)) return;
      this.logger.info('catching up a missed scheduled run', { runDate, scheduledFor: missed.toISOString() });
      await this.runScheduled(runDate, missed);
    } catch (error) {
      this.logger.error('catch-up failed', { runDate, error: error as Error });
    }
  }

  /**
   * One scheduled tick. Every replica names it by the same instant (the cron time it fired for,
   * not the moment its timer woke), and its business date is that instant's date in the
   * configured time zone; together they are the run's unique key.
   */
  async tick(firedAt: Date): Promise<void> {
    const { schedule, timezone } = this.config.scheduler;
    const scheduledFor = previousTick(
      toCronExpression(schedule),
      timezone,
      new Date(firedAt.getTime() + 500),
    );
    await this.runScheduled(businessDate(scheduledFor, timezone), scheduledFor);
  }

  private async runScheduled(runDate: string, scheduledFor: Date): Promise<void> {
    try {
      const report = await this.kernel.runs.run({ trigger: 'schedule', runDate, scheduledFor });
      if (report.status !== 'succeeded')
        this.logger.error('scheduled run did not succeed', {
          runId: report.run_id,
          status: report.status,
          error: report.error,
        });
    } catch (error) {
      if (error instanceof RunLockedError)
        this.logger.info('scheduled run skipped: another replica holds the run lock', { runDate });
      else if (error instanceof RunDateTakenError)
        this.logger.info('scheduled run skipped: this business date already has a run', { runDate });
      else this.logger.error('scheduled run could not start', { runDate, error: error as Error });
    }
  }
}
