export { ConfigError, type ConfigIssue } from './errors.js';
export { loadConfig, DEFAULT_CONFIG_PATH } from './load.js';
export { parseConfig, type ParseOptions } from './resolve.js';
export { parseDuration } from './duration.js';
export { DEFAULT_THRESHOLDS, defaultMinSamples } from './defaults.js';
export * from './types.js';
