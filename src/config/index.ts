export { loadConfig, parseConfigText, type LoadedConfig } from './load.js';
export { ConfigError, ConfigNotFoundError, formatProblem, type ConfigProblem } from './errors.js';
export { updateConfigFile, writeDefaultConfig, ConfigExistsError } from './edit.js';
export { CONFIG_TEMPLATE } from './template.js';
export { configSchema, defaultConfig, type Config } from './schema.js';
