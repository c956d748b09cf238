import 'reflect-metadata';
import type { ZodType } from 'zod';
import type { StageOptions } from './stage.js';

export const STAGE_METADATA = Symbol.for('pipeline:stage');

/**
 * Registers a class as a pipeline stage. The kernel finds it through Nest discovery at start-up;
 * the plugin only has to list the class among its module's providers.
 *
 * @example
 * ```ts
 * @Stage({ name: 'cleanup', description: 'Applies retention', phase: 'maintenance' })
 * export class CleanupStage implements PipelineStage { async run(ctx) { ... } }
 * ```
 */
export function Stage<S extends ZodType>(options: StageOptions<S>): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(STAGE_METADATA, options, target);
  };
}

export function stageOptionsOf(target: unknown): StageOptions | undefined {
  if (typeof target !== 'function') return undefined;
  return Reflect.getMetadata(STAGE_METADATA, target) as StageOptions | undefined;
}
