import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { DEFAULT_REFUSED_DATA_DIRS } from './data-dir.js';
import { Secret } from './secret.js';

const secret = z
  .union([z.string().min(1), z.instanceof(Secret)])
  .transform((v) => (v instanceof Secret ? v : new Secret(v)));

/**
 * A PostgreSQL URL the driver can use: parsed as a URL, scheme postgres(ql), user, password and
 * database percent-decodable. Checked at start-up: the driver would fail later with "Invalid
 * URL" and no key. The message never repeats the value, which holds the password.
 */
function isConnectionUrl(secret: Secret): boolean {
  try {
    const url = new URL(secret.reveal());
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return false;
    for (const part of [url.username, url.password, url.pathname]) decodeURIComponent(part);
    return true;
  } catch {
    return false;
  }
}

const connectionUrl = secret.refine(
  isConnectionUrl,
  'expected a PostgreSQL URL such as postgres://user:password@host:5432/database (the value is not shown: it may hold a password)',
);

/** YYYY-MM-DD, a real calendar date. */
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
  .refine((v) => {
    const date = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(v);
  }, 'expected a real calendar date');

// Node timers overflow past 2^31 - 1 ms (about 24.8 days) and would fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;
const durationMs = z.number().int().min(0).max(MAX_TIMER_MS);

export const retryPolicySchema = z
  .object({
    attempts: z.number().int().min(1).max(100),
    base_delay_ms: durationMs,
    max_delay_ms: durationMs,
    jitter: z.number().min(0).max(1),
  })
  .strict();

const stageOverrideSchema = z
  .object({
    enabled: z.boolean().optional(),
    retry: retryPolicySchema.partial().strict().optional(),
    timeout_ms: z.number().int().min(1).max(MAX_TIMER_MS).optional(),
  })
  .strict();

function isSchedule(value: string): boolean {
  const hhmm = /^(\d{1,2}):(\d{2})$/.exec(value);
  if (hhmm) return Number(hhmm[1]) <= 23 && Number(hhmm[2]) <= 59;
  try {
    CronExpressionParser.parse(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * `HH:MM` (24 h) or a five/six-field cron expression. Field values are checked here too: a
 * minute of 61 used to pass validation and stop the daemon later with a message naming no key.
 */
const scheduleSchema = z
  .string()
  .regex(/^(\d{1,2}:\d{2}|(\S+\s+){4,5}\S+)$/, 'expected "HH:MM" or a cron expression')
  .refine(isSchedule, 'expected "HH:MM" or a cron expression with every field in range');

const timeZoneSchema = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'expected an IANA time zone such as "UTC" or "Europe/Berlin"');

/** The kernel's own configuration. Plugins validate their own sections (see `StageOptions.config`). */
export const kernelConfigSchema = z
  .object({
    // The plugin packages to load (names, or paths to package folders); absent: the built-ins.
    plugins: z.array(z.string().min(1)).optional(),
    database: z
      .object({
        url: connectionUrl.optional(),
        pool_size: z.number().int().min(2).max(100).default(10),
        statement_timeout_ms: durationMs.default(15 * 60_000),
        connect_timeout_ms: durationMs.default(10_000),
        migrate_on_start: z.boolean().default(true),
        embedded_port: z.number().int().min(0).max(65535).default(0),
        // The embedded server's shared_buffers: most of its resident memory (PGlite's own default
        // is 128 MB); pages past it come from the operating system's cache.
        embedded_shared_buffers_mb: z.number().int().min(1).max(4096).default(32),
      })
      .strict()
      .prefault({}),
    pipeline: z
      .object({
        data_dir: z.string().min(1).default('data'),
        // Folders the data folder may never be (`*`: any one name); see data-dir.ts.
        data_dir_refused: z
          .array(z.string().regex(/^(\/|~$)/, "expected an absolute path, or ~ (the user's home folder)"))
          .default([...DEFAULT_REFUSED_DATA_DIRS]),
        // The manifest of the files the pipeline wrote (cleanup deletes nothing else), in the
        // data folder: relative to it, and staying inside it.
        written_files: z
          .string()
          .min(1)
          .refine(
            (p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'),
            'expected a path relative to the data folder, inside it',
          )
          .default('.pipeline/written-files.jsonl'),
        // Business dates a run may have: from `earliest` to `max_days_ahead` days after today.
        run_date_window: z
          .object({
            earliest: isoDate.default('2000-01-01'),
            max_days_ahead: z.number().int().min(0).max(366).default(1),
          })
          .strict()
          .prefault({}),
        retry: retryPolicySchema.prefault({
          attempts: 3,
          base_delay_ms: 1000,
          max_delay_ms: 30_000,
          jitter: 0.2,
        }),
        stage_timeout_ms: z
          .number()
          .int()
          .min(1)
          .max(MAX_TIMER_MS)
          .default(60 * 60_000),
        heartbeat_interval_ms: z.number().int().min(100).max(MAX_TIMER_MS).default(5_000),
        // Log lines kept per run in pipeline.run_logs: past it the first nine tenths and the
        // newest tenth (a failure, "run finished"), with one line saying how many were left out.
        run_log_max_lines: z.number().int().min(100).max(1_000_000).default(10_000),
        // A stage told to stop (timeout, shutdown, lost lock) has its statements cancelled at
        // once, and this long to roll back; then its sessions are terminated and the run goes on.
        stop_grace_ms: durationMs.default(10_000),
        // A gated stage starts alongside its gate and commits once the gate has passed
        // (StageOptions.gatedBy); false: it waits for the gate to finish first.
        gates_side_by_side: z.boolean().default(true),
        stages: z.record(z.string(), stageOverrideSchema).default({}),
      })
      .strict()
      .prefault({}),
    scheduler: z
      .object({
        enabled: z.boolean().default(true),
        schedule: scheduleSchema.default('02:00'),
        timezone: timeZoneSchema.default('UTC'),
        catch_up: z.enum(['skip', 'latest']).default('latest'),
        cleanup_after_run: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        host: z.string().min(1).default('0.0.0.0'),
        port: z.number().int().min(0).max(65535).default(3000),
        api_token: secret.optional(),
        body_limit: z
          .string()
          .regex(/^\d+(b|kb|mb)$/i, 'expected a size such as "64kb"')
          .default('64kb'),
        shutdown_grace_ms: z.number().int().min(0).default(30_000),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        format: z.enum(['auto', 'json', 'pretty']).default('auto'),
      })
      .strict()
      .prefault({}),
  })
  .passthrough();

export type KernelConfig = z.output<typeof kernelConfigSchema>;
export type RetryPolicyConfig = z.output<typeof retryPolicySchema>;
