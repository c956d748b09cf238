export { WarehouseModule } from './warehouse.module.js';
export { WarehouseStage } from './warehouse.stage.js';
