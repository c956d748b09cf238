/**
 * Reading the files under deploy/ for the deployment specs. Paths are relative to the
 * repository root, which is the working directory of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export const repoRoot = process.cwd();

export function readRepoFile(path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}

export function readYaml<T = unknown>(path: string): T {
  return parse(readRepoFile(path), { merge: true }) as T;
}

/** Every document of a multi-document YAML file; a syntax error in any of them throws. */
export function readYamlDocuments(text: string): unknown[] {
  return parseAllDocuments(text, { merge: true }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('; '));
    return doc.toJS() as unknown;
  });
}

/** The daemon's HTTP routes (daemon.md "HTTP"); probes and scrapes may only point at these. */
export const DAEMON_ROUTES = [
  '/health/live',
  '/health/ready',
  '/metrics',
  '/stages',
  '/runs',
  '/runs/:id',
] as const;

/** The uid the image runs as; the Kubernetes securityContext must agree. */
export const RUNTIME_UID = 10001;

/** Whether a command-line tool is on PATH; specs that run it skip (saying why) when it is not. */
export function toolMissing(command: string, versionArgs: string[] = ['--version']): false | string {
  const result = spawnSync(command, versionArgs, { encoding: 'utf8' });
  return result.error || result.status !== 0 ? `${command} is not installed` : false;
}

export function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where}: expected a mapping, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

export function asArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}

export interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
export function dockerInstructions(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  let stage = -1;
  return logical.map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    if (keyword.toUpperCase() === 'FROM') stage += 1;
    return { keyword: keyword.toUpperCase(), args: rest.join(' '), stage };
  });
}
