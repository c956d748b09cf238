import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { addDays, businessDate } from '../contract/business-dates.js';
import { kernelConfigSchema, type KernelConfig } from './config.schema.js';
import { dataDirRefusal } from './data-dir.js';
import { Secret } from './secret.js';

/** Start-up stops with this error: one message naming the key and what was expected. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`Invalid configuration: ${key}: ${detail}`);
  }
}

/** The whole effective configuration: the kernel's typed part plus the raw plugin sections. */
export interface AppConfig extends KernelConfig {
  /** Absolute path of the YAML file read, or null when none was given and none exists. */
  readonly source: string | null;
  /** Absolute data folder (root of raw/, quality/, production/, processed/, logs/, pgdata/). */
  readonly dataDir: string;
  /** sha256 of the effective configuration with secrets redacted. */
  readonly hash: string;
  /** The secrets, for scrubbing driver messages that might echo them. */
  readonly secrets: readonly Secret[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** Environment variables that override the file, and the key each one sets. */
const ENV_OVERRIDES: ReadonlyArray<{
  env: string;
  path: readonly string[];
  kind: 'string' | 'int' | 'secret' | 'list';
}> = [
  { env: 'DATABASE_URL', path: ['database', 'url'], kind: 'secret' },
  { env: 'PIPELINE_DATA_DIR', path: ['pipeline', 'data_dir'], kind: 'string' },
  { env: 'PIPELINE_API_TOKEN', path: ['http', 'api_token'], kind: 'secret' },
  { env: 'PORT', path: ['http', 'port'], kind: 'int' },
  { env: 'LOG_LEVEL', path: ['logging', 'level'], kind: 'string' },
  { env: 'PIPELINE_PLUGINS', path: ['plugins'], kind: 'list' },
];

export const DEFAULT_CONFIG_PATH = 'config/config.yaml';

export function loadConfig(options: { env?: Env; cwd?: string; path?: string; now?: Date } = {}): AppConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.path ?? env.PIPELINE_CONFIG;
  const source = resolve(cwd, explicit ?? DEFAULT_CONFIG_PATH);
  const file = readYaml(source, explicit !== undefined);
  const raw = file ?? {};
  const origins = applyEnvOverrides(raw, env);
  return buildConfig(raw, { source: file ? source : null, cwd, origins, now: options.now });
}

/** The file's mapping, or null when the default file does not exist. */
function readYaml(path: string, required: boolean): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError('PIPELINE_CONFIG', `cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const at = error.linePos?.[0];
      throw new ConfigError(at ? `${path}:${at.line}:${at.col}` : path, `not valid YAML (${error.code})`);
    }
    throw error;
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(path, 'expected a mapping of sections at the top level');
  }
  return parsed as Record<string, unknown>;
}

/** Sets the keys the environment overrides; returns which variable set which key (`a.b`). */
function applyEnvOverrides(raw: Record<string, unknown>, env: Env): ReadonlyMap<string, string> {
  const origins = new Map<string, string>();
  for (const { env: name, path, kind } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let parsed: unknown = value;
    if (kind === 'int') {
      if (!/^\d+$/.test(value))
        throw new ConfigError(`${path.join('.')} (from ${name})`, `expected a whole number, got "${value}"`);
      parsed = Number(value);
    } else if (kind === 'secret') {
      parsed = new Secret(value);
    } else if (kind === 'list') {
      parsed = value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    }
    setPath(raw, path, parsed, name);
    origins.set(path.join('.'), name);
  }
  return origins;
}

function setPath(
  target: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
  origin: string,
): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null) node[key] = {};
    else if (typeof next !== 'object' || Array.isArray(next))
      throw new ConfigError(key, `expected a mapping (needed by ${origin})`);
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/**
 * Validates a raw configuration object (already merged with the environment; `origins` names
 * the variable behind each key it set, so that an error names it too).
 */
export function buildConfig(
  raw: Record<string, unknown>,
  options: {
    source?: string | null;
    cwd?: string;
    origins?: ReadonlyMap<string, string>;
    /** The instant "today" is taken at (the run date window's check). */
    now?: Date;
  } = {},
): AppConfig {
  const origins = options.origins ?? new Map<string, string>();
  const result = kernelConfigSchema.safeParse(raw);
  if (!result.success) throw toConfigError(result.error, [], origins);
  const kernel = result.data;
  const dataDir = resolve(options.cwd ?? process.cwd(), kernel.pipeline.data_dir);
  const refusal = dataDirRefusal(dataDir, kernel.pipeline.data_dir_refused);
  if (refusal) {
    throw new ConfigError(
      named('pipeline.data_dir', origins),
      `${refusal}; the data folder must be a folder of its own, such as /var/lib/pipeline (refused folders: pipeline.data_dir_refused)`,
    );
  }
  const window = kernel.pipeline.run_date_window;
  const latest = addDays(
    businessDate(options.now ?? new Date(), kernel.scheduler.timezone),
    window.max_days_ahead,
  );
  if (window.earliest > latest) {
    throw new ConfigError(
      named('pipeline.run_date_window.earliest', origins),
      `${window.earliest} is after the latest run date the window allows today, ${latest} (today in scheduler.timezone + max_days_ahead ${window.max_days_ahead}): every run would be refused`,
    );
  }
  const secrets = [kernel.database.url, kernel.http.api_token].filter(
    (s): s is Secret => s instanceof Secret,
  );
  const hash = createHash('sha256').update(JSON.stringify(kernel)).digest('hex');
  return Object.freeze({ ...kernel, source: options.source ?? null, dataDir, hash, secrets });
}

/** `key`, and the environment variable that set it: `database.url (from DATABASE_URL)`. */
function named(key: string, origins: ReadonlyMap<string, string>): string {
  const variable = origins.get(key);
  return variable ? `${key} (from ${variable})` : key;
}

/** Turns the first validation issue into one message that names the key. */
export function toConfigError(
  error: z.ZodError,
  prefix: readonly (string | number)[] = [],
  origins: ReadonlyMap<string, string> = new Map(),
): ConfigError {
  const issue = error.issues[0]!;
  const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  if (issue.code === 'unrecognized_keys') {
    const key = [...path, issue.keys[0]].join('.');
    return new ConfigError(key, 'unknown key (check the spelling; see README "Configuration")');
  }
  const key = path.length ? named(path.join('.'), origins) : '(top level)';
  return new ConfigError(key, issue.message.replace(/^Invalid input: /, ''));
}

/** Validates one plugin-owned section of the configuration, naming the key on failure. */
export function parseSection<S extends z.ZodType>(config: AppConfig, key: string, schema: S): z.output<S> {
  const value = (config as unknown as Record<string, unknown>)[key];
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw toConfigError(result.error, [key]);
  return result.data;
}
