import { migrationStatus, type Database } from '../database/index.js';
import { pluginSchemaOwners, type LoadedPlugin } from './plugin-loader.js';
import { stageOptionsOf } from './stage.decorator.js';

/** What operators see of a loaded plugin (`GET /plugins`, `pipeline plugins`). */
export interface PluginReport {
  readonly name: string;
  readonly version: string;
  /** The kernel API range it declares. */
  readonly kernel_api: string;
  readonly stages: readonly string[];
  /** The packages whose tables it reads ahead of their stages (`manifest.reads`). */
  readonly reads: readonly string[];
  readonly migrations: {
    /** Its history table, or null when it has no migrations. */
    readonly history: string | null;
    readonly applied: readonly string[];
    readonly pending: readonly string[];
  };
}

/** The loaded plugins in their listed order, with their migrations' state in `db`. */
export async function describePlugins(
  db: Database,
  plugins: readonly LoadedPlugin[],
): Promise<PluginReport[]> {
  const statuses = new Map(
    (await migrationStatus(db, pluginSchemaOwners(plugins))).map((status) => [status.owner, status]),
  );
  return plugins.map(({ manifest }) => {
    const status = statuses.get(manifest.name);
    return {
      name: manifest.name,
      version: manifest.version,
      kernel_api: manifest.kernelApi,
      stages: manifest.stages.map((stage) => stageOptionsOf(stage)!.name),
      reads: manifest.reads ?? [],
      migrations: {
        history: status?.table ?? null,
        applied: status?.applied ?? [],
        pending: status?.pending ?? [],
      },
    };
  });
}
