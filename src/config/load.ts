import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError } from './errors.js';
import { parseConfig, type ParseOptions } from './resolve.js';
import type { Config } from './types.js';

export const DEFAULT_CONFIG_PATH = 'config/klaxon.yaml';

/**
 * Reads and validates a YAML configuration file. Relative paths inside it resolve against
 * the file's directory. Throws ConfigError (never a bare I/O or YAML error) with the file named.
 */
export function loadConfig(file: string = DEFAULT_CONFIG_PATH, options: Omit<ParseOptions, 'file' | 'baseDir'> = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(err)})`;
    throw new ConfigError([{ path: '', message: why }], { file, cause: err });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const message = err instanceof YAMLParseError ? `not valid YAML: ${err.message.split('\n')[0]}` : String(err);
    throw new ConfigError([{ path: '', message }], { file, cause: err });
  }
  return parseConfig(raw, { ...options, file, baseDir: path.dirname(path.resolve(file)) });
}
