/** An error the user caused (bad flag, bad file): printed as one line, never with a stack. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function positiveInt(flag: string): (raw: string) => number {
  return (raw) => {
    const v = Number(raw);
    if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(v) || v <= 0) {
      throw new UsageError(`${flag} must be a positive integer, got "${raw}"`);
    }
    return v;
  };
}

export function positiveNumber(flag: string): (raw: string) => number {
  return (raw) => {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || v <= 0) throw new UsageError(`${flag} must be a positive number, got "${raw}"`);
    return v;
  };
}
