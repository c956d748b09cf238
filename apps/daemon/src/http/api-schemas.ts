/**
 * The API's request and response shapes, as zod schemas: the endpoints validate with them and the
 * OpenAPI document is derived from them (`openapi.ts`), so the two cannot disagree.
 */
import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import { isIsoDate, RunCursor, type RunFilter } from '../../../../libs/kernel/index.js';

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
    before: z
      .string()
      .regex(RunCursor.PATTERN, 'expected a cursor as given in next_before')
      .optional()
      .describe('runs older than this cursor: the next_before of the previous page (stable paging)'),
    offset: z.coerce
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(0)
      .describe('runs to pass over; repeats or skips runs that start or are pruned meanwhile: prefer before'),
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
  )
  .refine((q) => !(q.before && q.offset), 'give either "before" or "offset", not both');

/** What the run history is asked for (`RunHistory.find`), from a valid `runListQuery`. */
export function runFilterOf(q: z.infer<typeof runListQuery>): RunFilter {
  return {
    status: q.status,
    trigger: q.trigger,
    runDateFrom: q.run_date_from,
    runDateTo: q.run_date_to,
    failedStage: q.failed_stage,
    limit: q.limit,
    before: q.before === undefined ? undefined : (RunCursor.parse(q.before) ?? undefined),
    offset: q.offset,
  };
}

export const retryQuery = z.object({ dry_run: z.enum(['true', 'false']).default('false') }).strict();

export const logLevel = z.enum(['debug', 'info', 'warn', 'error']);
export const runLogsQuery = z
  .object({
    stage: stageName.optional(),
    attempt: z.coerce.number().int().min(1).max(1000).optional(),
    level: logLevel.optional(),
    after: z.coerce
      .number()
      .int()
      .min(0)
      .max(2_147_483_647)
      .optional()
      .describe("only lines after this sequence number: the previous page's Next-After header"),
    limit: z.coerce.number().int().min(1).max(10_000).default(1_000).describe('at most this many lines'),
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

// Response shapes: what the endpoints answer, for the OpenAPI document.

export const apiError = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string().describe('what is wrong, naming the field or the run'),
});

const timestamp = z.string().describe('ISO 8601 date-time');
const rowCount = z.object({
  table: z.string(),
  read: z.number().int().optional(),
  written: z.number().int().optional(),
  rejected: z.number().int().optional(),
});

export const runSummary = z.object({
  id: z.string(),
  trigger: runTrigger,
  run_date: z.string(),
  status: runStatus,
  started_at: timestamp,
  finished_at: timestamp.nullable(),
  duration_ms: z.number().int(),
  error: z.string().nullable(),
  resumed_from: z.string().nullable(),
  cancel_requested_at: timestamp.nullable(),
  failed_stages: z.array(z.string()),
});

export const activeRun = z
  .object({
    runId: z.string(),
    runDate: z.string(),
    trigger: runTrigger,
    startedAt: timestamp,
    stage: z.string().nullable(),
  })
  .nullable();

export const runList = z.object({
  runs: z.array(runSummary),
  total: z.number().int().describe('runs matching the filter, all pages'),
  limit: z.number().int(),
  offset: z.number().int(),
  next_before: z
    .string()
    .nullable()
    .describe('the `before` of the next page, null on the last: pages neither repeat nor skip a run'),
  active: activeRun.describe('the run this replica is executing now, if any'),
});

const stageAttempt = z.object({
  attempt: z.number().int(),
  started_at: timestamp,
  finished_at: timestamp.nullable(),
  duration_ms: z.number().int().nullable(),
  outcome: z
    .enum(['running', 'succeeded', 'failed', 'timeout', 'aborted', 'cancelled'])
    .describe('cancelled: stopped by an operator; aborted: by shutdown or a lost lock'),
  error: z.string().nullable(),
  retry_delay_ms: z.number().int().nullable(),
});

export const runDetail = runSummary.extend({
  host: z.string().nullable(),
  pid: z.number().int().nullable(),
  requested_stages: z.array(z.string()).nullable(),
  code_version: z.string(),
  config_hash: z.string(),
  heartbeat_at: timestamp,
  cancel_requested_by: z.string().nullable(),
  report: z.record(z.string(), z.unknown()).nullable().describe('the run report, once the run has ended'),
  stages: z.array(
    z.object({
      stage: z.string(),
      position: z.number().int(),
      status: z
        .enum(['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'])
        .describe('cancelled: stopped by an operator cancelling the run; a retry starts again there'),
      attempts: z.number().int(),
      started_at: timestamp.nullable(),
      finished_at: timestamp.nullable(),
      duration_ms: z.number().int().nullable(),
      rows: z.array(rowCount),
      error: z.string().nullable(),
      error_kind: z.string().nullable(),
      attempt_history: z.array(stageAttempt),
    }),
  ),
});

export const runStarted = z.object({
  run_id: z.string(),
  run_date: z.string(),
  stages: z.array(z.string()),
  status_url: z.string(),
});

export const retryStarted = runStarted.extend({ retry_of: z.string() });

export const retryDryRun = z.object({
  dry_run: z.literal(true),
  retry_of: z.string(),
  run_date: z.string(),
  from: z.string().describe('the first unfinished stage of the run: the retry starts there'),
  stages: z.array(z.string()),
});

export const cancelRequested = z.object({
  run_id: z.string(),
  cancel_requested_at: timestamp,
  already_requested: z.boolean(),
  status_url: z.string(),
});

export const runLogLine = z.object({
  seq: z.number().int(),
  at: timestamp,
  level: logLevel,
  stage: z.string().nullable(),
  attempt: z.number().int().nullable(),
  message: z.string(),
  fields: z.record(z.string(), z.unknown()).nullable(),
});

export const stageList = z.object({
  stages: z.array(
    z.object({
      name: z.string(),
      description: z.string(),
      depends_on: z.array(z.string()),
      phase: z.enum(['main', 'finally', 'maintenance']),
      enabled: z.boolean(),
      retry: z.object({
        attempts: z.number().int(),
        baseDelayMs: z.number().int(),
        maxDelayMs: z.number().int(),
        jitter: z.number(),
      }),
      timeout_ms: z.number().int(),
    }),
  ),
});

export const pluginList = z.object({
  plugins: z.array(
    z.object({
      name: z.string(),
      version: z.string(),
      kernel_api: z.string().describe('the kernel API range the plugin declares'),
      stages: z.array(z.string()),
      reads: z.array(z.string()).describe('the packages whose tables it reads ahead of their stages'),
      migrations: z.object({
        history: z.string().nullable().describe('its history table, or null without migrations'),
        applied: z.array(z.string()),
        pending: z.array(z.string()),
      }),
    }),
  ),
});
