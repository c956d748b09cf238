import { z, type ZodType } from 'zod';
import { PermanentError } from './errors.js';
import type { StageOutcome } from './stage.js';

/**
 * A named value one stage hands to later ones (`StageResult.outputs`). Plugins do not import each
 * other, so producer and consumer each declare it, the consumer with the shape it relies on:
 *
 * @example
 * ```ts
 * const qualityScore = stageOutput('quality-score', z.object({ score: z.number().min(0).max(100) }));
 * // producer: return { outputs: { [qualityScore.name]: { score } } };
 * // consumer: const reading = ctx.outputOf('quality-checks', qualityScore);
 * ```
 */
export interface StageOutput<T> {
  readonly name: string;
  readonly schema: ZodType<T>;
}

export function stageOutput<T>(name: string, schema: ZodType<T>): StageOutput<T> {
  return { name, schema };
}

/**
 * The output `output` of stage `stage` among `earlier`, checked; `consumer` names the stage that
 * asks, for the error. Undefined when the stage did not succeed in this run or handed none on.
 */
export function outputOf<T>(
  earlier: readonly StageOutcome[],
  stage: string,
  output: StageOutput<T>,
  consumer: string,
): T | undefined {
  const outcome = earlier.find((s) => s.stage === stage);
  if (outcome?.status !== 'succeeded') return undefined;
  const outputs = outcome.result?.outputs ?? {};
  if (!Object.hasOwn(outputs, output.name)) return undefined;
  const parsed = output.schema.safeParse(outputs[output.name]);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const at = issue.path.length ? `.${issue.path.join('.')}` : '';
  throw new PermanentError(
    `stage ${consumer} cannot read output "${output.name}${at}" of stage ${stage}: ${issue.message}`,
  );
}

/**
 * The one output the kernel itself reads: a stage's verdict on the pipeline's health (the
 * monitoring report's summary, say), which readiness shows until the next one.
 */
export const pipelineHealthOutput = stageOutput('pipeline-health', z.record(z.string(), z.unknown()));
