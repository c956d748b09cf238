import type { Type } from '@nestjs/common';
import { AnalyticsModule } from '../../../plugins/analytics/index.js';
import { CleanupModule } from '../../../plugins/cleanup/index.js';
import { DataGenerationModule } from '../../../plugins/data-generation/index.js';
import { IngestionModule } from '../../../plugins/ingestion/index.js';
import { QualityChecksModule } from '../../../plugins/quality-checks/index.js';
import { WarehouseModule } from '../../../plugins/warehouse/index.js';
import { MonitoringModule } from '../../../plugins/monitoring/index.js';
import { ProductionEtlModule } from '../../../plugins/production-etl/index.js';

/**
 * The stage plugins this daemon runs. Adding a stage is adding its folder under `plugins/`
 * and one line here; the kernel finds the stage itself through `@Stage` and Nest discovery,
 * and orders stages by their declared dependencies, not by this list.
 */
export const pluginModules: Type[] = [
  DataGenerationModule,
  IngestionModule,
  QualityChecksModule,
  ProductionEtlModule,
  WarehouseModule,
  AnalyticsModule,
  MonitoringModule,
  CleanupModule,
];
