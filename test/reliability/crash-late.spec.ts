import { crashSuite } from './crash-cases.js';

crashSuite('SIGKILL in the last stages, then a restart', [
  { point: 'production-etl:loaded', restart: 'run', untouched: 'production' },
  { point: 'warehouse:loaded', restart: 'resume', untouched: 'warehouse' },
  { point: 'analytics:exported', restart: 'resume' },
]);
