import type { ZodType } from 'zod';
import { ConfigError, parseSection, type AppConfig } from '../config/index.js';
import {
  retryPolicyFromConfig,
  type PipelineStage,
  type RetryPolicy,
  type StageOptions,
  type StagePhase,
} from './stage.js';

/** A wiring mistake among the plugins: start-up stops with a message naming the plugin. */
export class StageRegistryError extends Error {
  override readonly name = 'StageRegistryError';
}

export interface StageDeclaration {
  readonly options: StageOptions<ZodType>;
  readonly instance: PipelineStage<unknown>;
  /** Where the stage came from (its plugin package, or class name in tests), for error messages. */
  readonly source: string;
  /** The plugin package that brings the stage. */
  readonly plugin?: string;
  /** Its plugin's own folder under the data folder (`PluginManifest.dataFolder`). */
  readonly dataFolder?: string;
}

/** A stage as the runner sees it: its declaration merged with the configuration. */
export interface RegisteredStage {
  readonly name: string;
  readonly description: string;
  readonly dependsOn: readonly string[];
  /** The dependencies that are only gates (`StageOptions.gatedBy`). */
  readonly gatedBy: readonly string[];
  readonly phase: StagePhase;
  /** The plugin package that brings it (the declaration's source when it has none). */
  readonly plugin: string;
  /** Its plugin's own folder under the data folder, or null: the data folder itself. */
  readonly dataFolder: string | null;
  readonly enabled: boolean;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly settings: unknown;
  readonly instance: PipelineStage<unknown>;
}

/** Top-level configuration keys that belong to the kernel, not to a stage. */
const KERNEL_KEYS = new Set([
  'database',
  'plugins',
  'pipeline',
  'scheduler',
  'http',
  'logging',
  'source',
  'dataDir',
  'hash',
  'secrets',
]);

/**
 * The stages known at start-up, validated and in a stable topological order: dependencies
 * first, and among stages free to go, the order in which the plugins were listed.
 */
export class StageRegistry {
  readonly ordered: readonly RegisteredStage[];
  private readonly byName: ReadonlyMap<string, RegisteredStage>;

  constructor(declarations: readonly StageDeclaration[], config: AppConfig) {
    const byName = new Map<string, StageDeclaration>();
    for (const declaration of declarations) {
      const { name } = declaration.options;
      if (!/^[a-z][a-z0-9-]*$/.test(name)) {
        throw new StageRegistryError(
          `stage "${name}" (${declaration.source}): a stage name is lower-case kebab-case`,
        );
      }
      const existing = byName.get(name);
      if (existing) {
        throw new StageRegistryError(
          `duplicate stage name "${name}": declared by ${existing.source} and by ${declaration.source}`,
        );
      }
      byName.set(name, declaration);
    }
    for (const declaration of declarations) {
      for (const dependency of declaration.options.dependsOn ?? []) {
        if (!byName.has(dependency)) {
          throw new StageRegistryError(
            `stage "${declaration.options.name}" (${declaration.source}) depends on unknown stage "${dependency}"`,
          );
        }
      }
      for (const gate of declaration.options.gatedBy ?? []) {
        if (!(declaration.options.dependsOn ?? []).includes(gate)) {
          throw new StageRegistryError(
            `stage "${declaration.options.name}" (${declaration.source}) is gated by "${gate}", which is not one of its dependsOn`,
          );
        }
      }
    }
    const order = topologicalOrder(declarations);
    validateConfigKeys(declarations, config);
    this.ordered = order.map((d) => register(d, config));
    this.byName = new Map(this.ordered.map((s) => [s.name, s]));
  }

  get(name: string): RegisteredStage | undefined {
    return this.byName.get(name);
  }

  /** Throws naming the unknown stages (CLI `--only`, API `stages`). */
  requireAll(names: readonly string[]): RegisteredStage[] {
    const unknown = names.filter((n) => !this.byName.has(n));
    if (unknown.length) {
      throw new StageRegistryError(
        `unknown stage${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (known: ${[...this.byName.keys()].join(', ')})`,
      );
    }
    return names.map((n) => this.byName.get(n)!);
  }
}

function topologicalOrder(declarations: readonly StageDeclaration[]): StageDeclaration[] {
  const remaining = new Map(declarations.map((d) => [d.options.name, new Set(d.options.dependsOn ?? [])]));
  const order: StageDeclaration[] = [];
  while (remaining.size > 0) {
    const ready = declarations.find((d) => {
      const deps = remaining.get(d.options.name);
      return deps !== undefined && [...deps].every((dep) => !remaining.has(dep));
    });
    if (!ready) throw new StageRegistryError(`dependency cycle: ${describeCycle(remaining)}`);
    order.push(ready);
    remaining.delete(ready.options.name);
  }
  return order;
}

/** Follows dependencies from a stage still waiting until one repeats: `a -> b -> a`. */
function describeCycle(remaining: Map<string, Set<string>>): string {
  let current = [...remaining.keys()][0]!;
  const path: string[] = [];
  while (!path.includes(current)) {
    path.push(current);
    current = [...remaining.get(current)!].find((dep) => remaining.has(dep))!;
  }
  return [...path.slice(path.indexOf(current)), current].join(' -> ');
}

function validateConfigKeys(declarations: readonly StageDeclaration[], config: AppConfig): void {
  const claimed = new Set(declarations.flatMap((d) => (d.options.config ? [d.options.config.key] : [])));
  for (const key of Object.keys(config)) {
    if (!KERNEL_KEYS.has(key) && !claimed.has(key)) {
      throw new ConfigError(
        key,
        `unknown section (known: ${[...KERNEL_KEYS]
          .slice(0, 5)
          .concat([...claimed])
          .join(', ')})`,
      );
    }
  }
  const names = new Set(declarations.map((d) => d.options.name));
  for (const name of Object.keys(config.pipeline.stages)) {
    if (!names.has(name))
      throw new ConfigError(`pipeline.stages.${name}`, `no such stage (known: ${[...names].join(', ')})`);
  }
}

function register(declaration: StageDeclaration, config: AppConfig): RegisteredStage {
  const { options } = declaration;
  const override = config.pipeline.stages[options.name] ?? {};
  const base = retryPolicyFromConfig(config.pipeline.retry);
  const declared = options.retry ?? {};
  const configured = override.retry ?? {};
  return {
    name: options.name,
    description: options.description,
    dependsOn: options.dependsOn ?? [],
    gatedBy: options.gatedBy ?? [],
    phase: options.phase ?? 'main',
    plugin: declaration.plugin ?? declaration.source,
    dataFolder: declaration.dataFolder ?? null,
    enabled: override.enabled ?? options.enabledByDefault ?? true,
    retry: {
      attempts: configured.attempts ?? declared.attempts ?? base.attempts,
      baseDelayMs: configured.base_delay_ms ?? declared.baseDelayMs ?? base.baseDelayMs,
      maxDelayMs: configured.max_delay_ms ?? declared.maxDelayMs ?? base.maxDelayMs,
      jitter: configured.jitter ?? declared.jitter ?? base.jitter,
    },
    timeoutMs: override.timeout_ms ?? options.timeoutMs ?? config.pipeline.stage_timeout_ms,
    settings: options.config ? parseSection(config, options.config.key, options.config.schema) : undefined,
    instance: declaration.instance,
  };
}
