import { constants } from 'node:fs';
import { access, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Controller, Get, Inject, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { migrationStatus, type Database } from '../../../../libs/database/index.js';
import { CONFIG, DATABASE, METRICS, PipelineKernel } from '../../../../libs/kernel/index.js';
import { withoutDataDir, type AppConfig } from '../../../../libs/config/index.js';
import { schemaOwners } from '../schema.js';
import type { PipelineMetrics } from '../../../../libs/metrics/index.js';

const PROBE_TIMEOUT_MS = 3_000;
const PROBE_INTERVAL_MS = 15_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]);
}

/**
 * Liveness answers from the process alone (a database outage must not restart healthy pods);
 * readiness checks the database, the migrations and the data folder, and shows the pipeline's state.
 */
@ApiTags('health')
@Controller('health')
export class HealthController implements OnModuleInit, OnApplicationShutdown {
  private probeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly kernel: PipelineKernel,
    @Inject(DATABASE) private readonly db: Database,
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(METRICS) private readonly metrics: PipelineMetrics,
  ) {}

  onModuleInit(): void {
    // Keeps pipeline_database_up current for alerting even when nobody asks for readiness.
    const probe = (): void => {
      void this.pingDatabase().then(
        () => this.metrics.databaseUp.set(1),
        () => this.metrics.databaseUp.set(0),
      );
    };
    probe();
    this.probeTimer = setInterval(probe, PROBE_INTERVAL_MS);
    this.probeTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.probeTimer);
  }

  @Get('live')
  @HealthCheck()
  @ApiResponse({ status: 200, description: 'the process answers' })
  live() {
    return this.health.check([
      () =>
        this.indicators
          .check('process')
          .up({ pid: process.pid, uptime_seconds: Math.round(process.uptime()) }),
    ]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiResponse({ status: 200, description: 'database reachable, migrations applied, data folder writable' })
  @ApiResponse({ status: 503, description: 'not ready; `details` names the check that failed' })
  ready() {
    return this.health.check([
      () => this.database(),
      () => this.migrations(),
      () => this.dataFolder(),
      () => this.pipeline(),
    ]);
  }

  private async pingDatabase(): Promise<number> {
    const started = Date.now();
    await withTimeout(this.db.pool.query('SELECT 1'), PROBE_TIMEOUT_MS, 'the database');
    return Date.now() - started;
  }

  private async database() {
    const session = this.indicators.check('database');
    try {
      const ms = await this.pingDatabase();
      this.metrics.databaseUp.set(1);
      return session.up({ kind: this.db.kind, response_ms: ms });
    } catch (error) {
      this.metrics.databaseUp.set(0);
      return session.down({ kind: this.db.kind, message: this.shown((error as Error).message) });
    }
  }

  private async migrations() {
    const session = this.indicators.check('migrations');
    try {
      const owners = await withTimeout(
        migrationStatus(this.db, schemaOwners(this.kernel.plugins)),
        PROBE_TIMEOUT_MS,
        'the migration history',
      );
      const pending = owners.flatMap((o) => o.pending.map((name) => `${o.owner}: ${name}`));
      return pending.length
        ? session.down({ pending })
        : session.up({ applied: owners.reduce((n, o) => n + o.applied.length, 0) });
    } catch (error) {
      return session.down({ message: this.shown((error as Error).message) });
    }
  }

  /**
   * Whether the data folder takes a file. Bounded like the other probes: file access shares a few
   * threads, and a stuck one (a network file system) must make the pod unready, not hang the probe.
   * The folder's path is not shown: readiness answers anyone.
   */
  private async dataFolder() {
    const session = this.indicators.check('data_folder');
    const probe = join(this.config.dataDir, `.ready-${process.pid}`);
    try {
      await withTimeout(
        (async () => {
          await access(this.config.dataDir, constants.W_OK);
          await writeFile(probe, 'ok');
          await rm(probe, { force: true });
        })(),
        PROBE_TIMEOUT_MS,
        'the data folder',
      );
      return session.up();
    } catch (error) {
      return session.down({
        message: (error as NodeJS.ErrnoException).code ?? this.shown((error as Error).message),
      });
    }
  }

  /** Informational: the run in progress and the latest health verdict never make the pod unready. */
  private pipeline() {
    const runs = this.kernel.runs;
    const monitoring = JSON.stringify(runs.lastHealth);
    return this.indicators.check('pipeline').up({
      active_run: runs.current,
      monitoring: JSON.parse(this.shown(monitoring, JSON.stringify(this.config.dataDir).slice(1, -1))),
    });
  }

  /**
   * The first line of a message without the data folder's absolute path (as it appears in
   * `text`: JSON-escaped in JSON): readiness answers anyone, and where the data lives on the
   * host is not theirs to know.
   */
  private shown(text: string, dataDir = this.config.dataDir): string {
    return withoutDataDir(text.split('\n')[0]!, dataDir);
  }
}
