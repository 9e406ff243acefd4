/**
 * One CSV line (RFC 4180 quoting, no embedded newlines) into its fields.
 * `splitCsvLine('a,"b,c",""')` is `['a', 'b,c', '']`.
 */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (line[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          s += line.slice(i);
          i = n;
          break;
        }
        s += line.slice(i, q);
        if (line[q + 1] === '"') {
          s += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(s);
      const comma = line.indexOf(',', i);
      if (comma < 0) return out;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

/**
 * A CSV row as the JSON object the decoder reads: dotted headers nest (`payload.amount`
 * becomes `{"payload": {"amount": …}}`), numbers become numbers, empty cells are left out.
 */
export function csvRowToObject(header: readonly string[][], cells: readonly string[]): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (let c = 0; c < header.length && c < cells.length; c++) {
    const raw = cells[c]!;
    if (raw === '') continue;
    const num = Number(raw);
    const value = raw.trim() !== '' && !Number.isNaN(num) ? num : raw;
    const path = header[c]!;
    let node = obj;
    for (let p = 0; p < path.length - 1; p++) {
      const key = path[p]!;
      const next = node[key];
      if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
      else node = node[key] = {};
    }
    node[path[path.length - 1]!] = value;
  }
  return obj;
}
