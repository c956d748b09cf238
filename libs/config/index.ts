export { Secret, redactUrl, scrubSecrets } from './secret.js';
export { withoutDataDir } from './data-dir.js';
export {
  kernelConfigSchema,
  retryPolicySchema,
  type KernelConfig,
  type RetryPolicyConfig,
} from './config.schema.js';
export {
  loadConfig,
  buildConfig,
  parseSection,
  toConfigError,
  ConfigError,
  DEFAULT_CONFIG_PATH,
  type AppConfig,
} from './config.loader.js';
