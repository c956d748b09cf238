import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import type { SchemaOwner } from '../database/index.js';
import { KERNEL_API_VERSION } from './api-version.js';
import { pluginManifestSchema, type PluginManifest } from './plugin.js';
import { stageOptionsOf } from './stage.decorator.js';
import type { StageDeclaration } from './stage-registry.js';
import type { PipelineStage } from './stage.js';

/** A plugin that cannot be used: start-up stops with this one line, naming the package. */
export class PluginLoadError extends Error {
  override readonly name = 'PluginLoadError';
}

/** A plugin as the kernel runs it: its manifest, and the entry of the `plugins:` list it came from. */
export interface LoadedPlugin {
  readonly manifest: PluginManifest;
  readonly entry: string;
}

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();

const isPath = (entry: string): boolean => /^(\.{1,2}[\\/]|\/)/.test(entry) || entry === '.';

/** The file a package folder's `import` resolves to: its exports' `.`, else `main`, else index.js. */
function entryFileOf(folder: string): string {
  const manifest = join(folder, 'package.json');
  if (!existsSync(manifest)) throw new Error(`${folder} has no package.json`);
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports?: unknown;
    main?: string;
  };
  let target: unknown = pkg.exports;
  if (target && typeof target === 'object' && '.' in target)
    target = (target as Record<string, unknown>)['.'];
  while (target && typeof target === 'object') {
    const conditions = target as Record<string, unknown>;
    target = conditions.import ?? conditions.node ?? conditions.default;
  }
  return join(folder, typeof target === 'string' ? target : (pkg.main ?? 'index.js'));
}

/**
 * Imports one `plugins:` entry (a package name, resolved from the daemon's own `node_modules`,
 * or a path to a package folder, relative to `cwd`) and checks its manifest.
 */
export async function loadPlugin(entry: string, cwd: string = process.cwd()): Promise<LoadedPlugin> {
  let module: unknown;
  try {
    module = await import(isPath(entry) ? pathToFileURL(entryFileOf(resolve(cwd, entry))).href : entry);
  } catch (error) {
    throw new PluginLoadError(`plugin ${entry} could not be loaded: ${firstLine(error)}`);
  }
  return pluginFromModule(entry, module);
}

/** Checks what a plugin module exports: a valid manifest, for an API this kernel provides. */
export function pluginFromModule(entry: string, module: unknown): LoadedPlugin {
  const exported = (module as { default?: unknown } | null)?.default;
  const parsed = pluginManifestSchema.safeParse(exported);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length ? `${issue.path.join('.')}: ` : '';
    const what = exported === undefined ? 'no default export (its manifest)' : `${at}${issue.message}`;
    throw new PluginLoadError(`plugin ${entry}: invalid manifest: ${what}`);
  }
  const manifest = exported as PluginManifest;
  if (!semver.satisfies(KERNEL_API_VERSION, manifest.kernelApi)) {
    throw new PluginLoadError(
      `plugin ${manifest.name} ${manifest.version} supports kernel API ${manifest.kernelApi}; this kernel's API is ${KERNEL_API_VERSION}`,
    );
  }
  return { manifest, entry };
}

/**
 * Loads the configured plugins in their listed order. A package listed twice, two packages
 * declaring the same stage, or a plugin reading the tables of one not listed stop start-up
 * naming both.
 */
export async function loadPlugins(entries: readonly string[], cwd?: string): Promise<LoadedPlugin[]> {
  const plugins: LoadedPlugin[] = [];
  for (const entry of entries) plugins.push(await loadPlugin(entry, cwd));
  assertDistinct(plugins);
  assertReadsLoaded(plugins);
  return plugins;
}

/** Refuses a plugin that reads the tables of a package that is not loaded (`manifest.reads`). */
export function assertReadsLoaded(plugins: readonly LoadedPlugin[]): void {
  const loaded = new Set(plugins.map((p) => p.manifest.name));
  for (const { manifest } of plugins)
    for (const owner of manifest.reads ?? [])
      if (!loaded.has(owner))
        throw new PluginLoadError(
          `plugin ${manifest.name} reads the tables of ${owner}, which is not loaded: add ${owner} to plugins:, or remove ${manifest.name}`,
        );
}

export function assertDistinct(plugins: readonly LoadedPlugin[]): void {
  const packages = new Map<string, LoadedPlugin>();
  const stages = new Map<string, string>();
  for (const plugin of plugins) {
    const { name } = plugin.manifest;
    const twin = packages.get(name);
    if (twin) throw new PluginLoadError(`plugin ${name} is listed twice (${twin.entry} and ${plugin.entry})`);
    packages.set(name, plugin);
    for (const stage of plugin.manifest.stages) {
      const stageName = stageOptionsOf(stage)!.name;
      const owner = stages.get(stageName);
      if (owner)
        throw new PluginLoadError(`stage "${stageName}" is declared by two plugins: ${owner} and ${name}`);
      stages.set(stageName, name);
    }
  }
}

/** The stages of the loaded plugins, built, each naming its package (what the registry checks). */
export function stageDeclarations(plugins: readonly LoadedPlugin[]): StageDeclaration[] {
  return plugins.flatMap(({ manifest }) =>
    manifest.stages.map((stage) => ({
      options: stageOptionsOf(stage)!,
      instance: new stage() as PipelineStage<unknown>,
      source: manifest.name,
      plugin: manifest.name,
      ...(manifest.dataFolder ? { dataFolder: manifest.dataFolder } : {}),
    })),
  );
}

/**
 * The plugins that own migrations, in the order their schemas are migrated: a plugin after every
 * plugin whose stages its stages depend on, otherwise in the listed order.
 */
export function pluginSchemaOwners(plugins: readonly LoadedPlugin[]): SchemaOwner[] {
  const ownerOfStage = new Map<string, string>();
  for (const { manifest } of plugins)
    for (const stage of manifest.stages) ownerOfStage.set(stageOptionsOf(stage)!.name, manifest.name);
  const needs = new Map(
    plugins.map(({ manifest }) => [
      manifest.name,
      new Set(
        manifest.stages
          .flatMap((stage) => stageOptionsOf(stage)!.dependsOn ?? [])
          .map((dependency) => ownerOfStage.get(dependency))
          .filter((owner): owner is string => owner !== undefined && owner !== manifest.name),
      ),
    ]),
  );
  const ordered: LoadedPlugin[] = [];
  const remaining = [...plugins];
  while (remaining.length > 0) {
    const done = new Set(ordered.map((p) => p.manifest.name));
    const next =
      remaining.find((p) => [...needs.get(p.manifest.name)!].every((n) => done.has(n))) ?? remaining[0]!;
    ordered.push(next);
    remaining.splice(remaining.indexOf(next), 1);
  }
  return ordered
    .filter(({ manifest }) => (manifest.migrations ?? []).length > 0)
    .map(({ manifest }) => ({ name: manifest.name, migrations: manifest.migrations ?? [] }));
}
