/** One CSV field (RFC 4180), defusing spreadsheet formulas in text cells. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

/** The quality an Accept header gives a media type (RFC 9110 §12.5.1); 0 when not acceptable. */
function quality(accept: string, type: string): number {
  let best = 0;
  let specificity = -1;
  for (const part of accept.split(',')) {
    const [range, ...params] = part.trim().toLowerCase().split(';');
    const [main, sub] = range.trim().split('/');
    const [wantMain, wantSub] = type.split('/');
    const level =
      main === wantMain && sub === wantSub ? 2 : main === wantMain && sub === '*' ? 1 : main === '*' ? 0 : -1;
    if (level < 0 || level < specificity) continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find(Boolean);
    const value = q ? Number(q[1]) : 1;
    if (level > specificity || value > best) best = Number.isFinite(value) ? value : 0;
    specificity = level;
  }
  return best;
}

/** True when the caller asked for CSV by `format=csv`, or prefers `text/csv` to JSON in Accept. */
export function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  if (format) return format === 'csv';
  if (typeof accept !== 'string' || !/text\/csv/i.test(accept)) return false;
  const csv = quality(accept, 'text/csv');
  if (csv === 0) return false;
  // JSON stays the answer only when the caller named it and weighted it above CSV.
  return !/application\/json/i.test(accept) || csv >= quality(accept, 'application/json');
}
