import type { Type } from '@nestjs/common';
import { CleanupModule } from '../../../plugins/cleanup/index.js';
import { MonitoringModule } from '../../../plugins/monitoring/index.js';

/**
 * The stage plugins this daemon runs. Adding a stage is adding its folder under `plugins/`
 * and one line here; the kernel finds the stage itself through `@Stage` and Nest discovery,
 * and orders stages by their declared dependencies, not by this list.
 */
export const pluginModules: Type[] = [MonitoringModule, CleanupModule];
