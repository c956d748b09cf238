import { crashSuite } from './crash-cases.js';

crashSuite('SIGKILL in the first stages, then a restart', [
  { point: 'data-generation:before-publish', restart: 'run' },
  { point: 'ingestion:loaded', restart: 'resume', untouched: 'staging' },
  { point: 'quality-checks:quarantined', restart: 'run' },
]);
