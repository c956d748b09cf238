export { CleanupModule } from './cleanup.module.js';
export { CleanupStage } from './cleanup.stage.js';
