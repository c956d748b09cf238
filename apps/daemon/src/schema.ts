import { KERNEL_SCHEMA_OWNER, type SchemaOwner } from '../../../libs/database/index.js';
import { pluginSchemaOwners, type LoadedPlugin } from '../../../libs/kernel/index.js';
import { migrations } from '@pipeline/kernel-schema';

/** Whose migrations `pipeline migrate` applies, in order: the kernel's, then the plugins'. */
export function schemaOwners(plugins: readonly LoadedPlugin[]): SchemaOwner[] {
  return [{ name: KERNEL_SCHEMA_OWNER, migrations }, ...pluginSchemaOwners(plugins)];
}
