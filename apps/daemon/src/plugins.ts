/**
 * The plugins a configuration that lists none loads: the built-in stages, as
 * `config/config.yaml` lists them. They load exactly like any other plugin package (by name,
 * through `loadPlugins`); the kernel orders stages by their declared dependencies, not by this list.
 */
export const defaultPlugins: readonly string[] = [
  '@pipeline/plugin-data-generation',
  '@pipeline/plugin-ingestion',
  '@pipeline/plugin-quality-checks',
  '@pipeline/plugin-production-etl',
  '@pipeline/plugin-warehouse',
  '@pipeline/plugin-analytics',
  '@pipeline/plugin-monitoring',
  '@pipeline/plugin-cleanup',
];
