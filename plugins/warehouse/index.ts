import { definePlugin } from '@pipeline/kernel';
import pkg from './package.json' with { type: 'json' };
import { WarehouseSchema1764100000000 } from './migrations/1764100000000-warehouse-schema.js';
import { FactSalesDiscountAddsUp1764100015000 } from './migrations/1764100015000-fact-sales-discount-adds-up.js';
import { CitusLayout1764100030000 } from './migrations/1764100030000-citus-layout.js';
import { SalesSetAside1764100050000 } from './migrations/1764100050000-sales-set-aside.js';
import { WarehouseStage } from './warehouse.stage.js';

/** The plugin's manifest: what the kernel loads when `plugins:` lists this package. */
export default definePlugin({
  name: pkg.name,
  version: pkg.version,
  kernelApi: pkg.peerDependencies['@pipeline/kernel'],
  stages: [WarehouseStage],
  migrations: [
    WarehouseSchema1764100000000,
    FactSalesDiscountAddsUp1764100015000,
    CitusLayout1764100030000,
    SalesSetAside1764100050000,
  ],
});

export { WarehouseStage } from './warehouse.stage.js';
