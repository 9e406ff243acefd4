import { readFileSync } from 'node:fs';
import { gmmFromJson } from '../gmm/json.js';
import type { Gmm } from '../gmm/model.js';
import { UsageError } from './errors.js';

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${path}: no such file`);
    if (code === 'EISDIR') throw new UsageError(`${path}: is a directory, expected a file`);
    throw new UsageError(`${path}: cannot read (${code ?? String(err)})`);
  }
}

/** Reads and validates a model JSON file; any problem becomes one line naming the file. */
export function readModel(path: string): Gmm {
  const text = readText(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  try {
    return gmmFromJson(json);
  } catch (err) {
    throw new UsageError(`${path}: invalid model: ${(err as Error).message}`);
  }
}

/**
 * Numeric rows from CSV, or JSON lines of arrays or flat objects (object keys taken from the
 * first line, in order). A CSV's first line is its header unless every cell of it is a number
 * (`np.savetxt` writes none): then it is data, and the columns are numbered as a JSON array's.
 * Returns n×d row-major.
 */
export function readData(path: string): { X: Float64Array; n: number; d: number; columns: string[] } {
  const lines = readText(path)
    .split(/\r?\n/)
    .map((l, i) => ({ text: l.trim(), line: i + 1 }))
    .filter((l) => l.text !== '');
  if (lines.length === 0) throw new UsageError(`${path}: no data`);
  const first = lines[0]!.text;
  const isJson = first.startsWith('[') || first.startsWith('{');
  const rows: number[][] = [];
  let columns: string[];
  const cell = (v: unknown, line: number, col: string): number => {
    const x = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new UsageError(`${path}:${line}: column "${col}" is not a finite number (${JSON.stringify(v)})`);
    }
    return x;
  };
  if (isJson) {
    const parse = (l: { text: string; line: number }): unknown => {
      try {
        return JSON.parse(l.text);
      } catch {
        throw new UsageError(`${path}:${l.line}: not valid JSON`);
      }
    };
    const head = parse(lines[0]!);
    columns = Array.isArray(head)
      ? head.map((_, i) => String(i))
      : typeof head === 'object' && head !== null
        ? Object.keys(head)
        : [];
    if (columns.length === 0) throw new UsageError(`${path}:1: expected a JSON array or object of numbers`);
    for (const l of lines) {
      const v = l === lines[0] ? head : parse(l);
      if (Array.isArray(v)) {
        if (v.length !== columns.length) throw new UsageError(`${path}:${l.line}: expected ${columns.length} values, got ${v.length}`);
        rows.push(v.map((x, i) => cell(x, l.line, columns[i]!)));
      } else if (typeof v === 'object' && v !== null && !Array.isArray(head)) {
        const o = v as Record<string, unknown>;
        rows.push(columns.map((c) => (c in o ? cell(o[c], l.line, c) : missing(path, l.line, c))));
      } else {
        throw new UsageError(`${path}:${l.line}: expected a JSON ${Array.isArray(head) ? 'array' : 'object'} like line 1`);
      }
    }
  } else {
    const head = first.split(',').map((c) => c.trim());
    const headerless = head.every((c) => c !== '' && Number.isFinite(Number(c)));
    columns = headerless ? head.map((_, i) => String(i)) : head;
    if (columns.some((c) => c === '')) throw new UsageError(`${path}:1: empty column name in the CSV header`);
    for (const l of headerless ? lines : lines.slice(1)) {
      const cells = l.text.split(',');
      if (cells.length !== columns.length) {
        throw new UsageError(`${path}:${l.line}: expected ${columns.length} cells, got ${cells.length}`);
      }
      rows.push(cells.map((x, i) => cell(x, l.line, columns[i]!)));
    }
    if (rows.length === 0) throw new UsageError(`${path}: CSV has a header but no rows`);
  }
  const d = columns.length;
  const X = new Float64Array(rows.length * d);
  rows.forEach((r, i) => X.set(r, i * d));
  return { X, n: rows.length, d, columns };
}

function missing(path: string, line: number, col: string): never {
  throw new UsageError(`${path}:${line}: missing field "${col}"`);
}
