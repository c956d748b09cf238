import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { KernelModule, type KernelRuntime } from '../../../libs/kernel/index.js';
import { HealthController } from './http/health.controller.js';
import { MetricsController } from './http/metrics.controller.js';
import { RunsController } from './http/runs.controller.js';
import { PluginsController } from './http/plugins.controller.js';
import { RunsControlController } from './http/runs-control.controller.js';
import { RunsLogsController } from './http/runs-logs.controller.js';
import { RunPageController } from './http/run-page.controller.js';
import { StagesController } from './http/stages.controller.js';

@Module({})
export class AppModule {
  /** `http: false` for one-shot CLI commands: the same kernel and plugins, no controllers. */
  static forRoot(runtime: KernelRuntime, options: { http: boolean }): DynamicModule {
    return {
      module: AppModule,
      imports: [KernelModule.forRoot(runtime), ...(options.http ? [TerminusModule] : [])],
      controllers: options.http
        ? [
            HealthController,
            MetricsController,
            StagesController,
            PluginsController,
            RunsController,
            RunsControlController,
            RunsLogsController,
            RunPageController,
          ]
        : [],
    };
  }
}
