/** One problem in the configuration: where (`streams[1].window.size`) and what is wrong. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/**
 * The configuration is not usable. The message lists every problem, one per line, each as
 * `key.path: what is wrong`, so a user can fix them all in one go.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: ConfigIssue[], options?: { file?: string; cause?: unknown }) {
    const where = options?.file ? `invalid configuration in ${options.file}` : 'invalid configuration';
    const lines = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    super(lines.length === 1 ? `${where}: ${lines[0]}` : `${where}:\n  ${lines.join('\n  ')}`, {
      cause: options?.cause,
    });
    this.issues = issues;
  }
}

/** `['streams', 1, 'window', 'size']` → `streams[1].window.size`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else {
      const key = String(p);
      out += /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? (out ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}
