/**
 * The API's request and response shapes, as zod schemas: the endpoints validate with them and the
 * OpenAPI document is derived from them (`openapi.ts`), so the two cannot disagree.
 */
import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import { isIsoDate } from '../../../../libs/kernel/index.js';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const runId = z.string().regex(UUID, 'a run id is a UUID');
const stageName = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'a stage name is lower-case kebab-case');
const isoDate = z.string().refine(isIsoDate, 'expected a date YYYY-MM-DD');

export const runRequestBody = z
  .object({
    stages: z.array(stageName).min(1).max(32).optional(),
    from: stageName.optional(),
    run_date: isoDate.optional(),
  })
  .strict()
  .refine((b) => !(b.stages && b.from), 'give either "stages" or "from", not both');

export const runStatus = z.enum(['running', 'succeeded', 'failed', 'abandoned', 'interrupted', 'cancelled']);
export const runTrigger = z.enum(['schedule', 'api', 'cli', 'backfill']);

export const runListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
    status: runStatus.optional(),
    trigger: runTrigger.optional(),
    run_date_from: isoDate.optional(),
    run_date_to: isoDate.optional(),
    failed_stage: stageName.optional(),
  })
  .strict()
  .refine(
    (q) => !(q.run_date_from && q.run_date_to && q.run_date_from > q.run_date_to),
    'run_date_from is after run_date_to',
  );

export const retryQuery = z.object({ dry_run: z.enum(['true', 'false']).default('false') }).strict();

export const logLevel = z.enum(['debug', 'info', 'warn', 'error']);
export const runLogsQuery = z
  .object({
    stage: stageName.optional(),
    attempt: z.coerce.number().int().min(1).max(1000).optional(),
    level: logLevel.optional(),
  })
  .strict();

/** Parses `value` with `schema`, or answers 400 naming the first field that is wrong. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw new BadRequestException(firstIssue(parsed.error));
  return parsed.data;
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') return `unknown field "${issue.keys[0]}"`;
  return issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}
