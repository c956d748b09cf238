import { PipelineSchema1764100000000 } from './1764100000000-pipeline-schema.js';
import { OperatorControls1764100040000 } from './1764100040000-operator-controls.js';
import { CancelledStages1764100041000 } from './1764100041000-cancelled-stages.js';

/**
 * The kernel's own migrations (the `pipeline` schema), oldest first; each plugin ships its own
 * (its manifest's `migrations`). A new one is a file beside this one and a line here.
 */
export const migrations = [
  PipelineSchema1764100000000,
  OperatorControls1764100040000,
  CancelledStages1764100041000,
];
