import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import type { AppConfig } from '../../config/index.js';
import type { Database } from '../../database/index.js';
import type { Logger } from '../../logging/index.js';
import type { PipelineMetrics } from '../../metrics/index.js';
import type { LoadedPlugin } from '../plugin-loader.js';
import { CODE_VERSION, CONFIG, DATABASE, LOGGER, METRICS, PLUGINS } from './kernel.tokens.js';
import { PipelineKernel } from './pipeline-kernel.js';
import { RunScheduler } from './run-scheduler.js';

/** What exists before Nest starts: a bad config or an unreachable database fails before any module. */
export interface KernelRuntime {
  readonly config: AppConfig;
  readonly db: Database;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly codeVersion: string;
  /** The plugins of `plugins:`, loaded and checked (`loadPlugins`). */
  readonly plugins: readonly LoadedPlugin[];
}

@Global()
@Module({})
export class KernelModule {
  static forRoot(runtime: KernelRuntime): DynamicModule {
    return {
      module: KernelModule,
      imports: [ScheduleModule.forRoot()],
      providers: [
        { provide: CONFIG, useValue: runtime.config },
        { provide: DATABASE, useValue: runtime.db },
        { provide: LOGGER, useValue: runtime.logger },
        { provide: METRICS, useValue: runtime.metrics },
        { provide: CODE_VERSION, useValue: runtime.codeVersion },
        { provide: PLUGINS, useValue: runtime.plugins },
        PipelineKernel,
        RunScheduler,
      ],
      exports: [CONFIG, DATABASE, LOGGER, METRICS, CODE_VERSION, PLUGINS, PipelineKernel, RunScheduler],
    };
  }
}
