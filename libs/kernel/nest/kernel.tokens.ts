/** Injection tokens for what the application creates before Nest starts (config, database, ...). */
export const CONFIG = Symbol.for('pipeline:config');
export const DATABASE = Symbol.for('pipeline:database');
export const LOGGER = Symbol.for('pipeline:logger');
export const METRICS = Symbol.for('pipeline:metrics');
export const PLUGINS = Symbol.for('pipeline:plugins');
export const CODE_VERSION = Symbol.for('pipeline:code-version');
