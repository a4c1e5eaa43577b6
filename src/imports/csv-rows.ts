import { parse } from 'csv-parse';
import { validateSync, ValidationError } from 'class-validator';
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { DomainError, FieldProblem } from '../common/domain-error';
import { requestHash } from '../credits/canonical-json';
import { CreditFields, creditFields } from '../credits/credits.repository';
import { ImportRowDto } from './dto/import.dto';

/** The columns a file may have, as the JSON API names the fields. */
export const REQUIRED_COLUMNS = [
  'externalId',
  'agentRef',
  'amount',
  'currency',
  'kind',
  'reasonCode',
  'caseRef',
  'occurredAt',
] as const;
export const OPTIONAL_COLUMNS = ['customerRef', 'channel', 'note'] as const;
const COLUMNS = new Set<string>([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]);

/** Largest file accepted, and largest single record (a row cannot make memory grow past this). */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
const MAX_RECORD_BYTES = 16 * 1024;

/** A row that passed every check that needs no database, as it will be staged. */
export interface ValidRow extends CreditFields {
  line: number;
  externalId: string;
  agentRef: string;
  occurredAt: Date;
  /** The hash a POST /v1/credits with the same fields would have: one key, one meaning. */
  hash: Buffer;
}

export type ParsedRow = { line: number; row: ValidRow } | { line: number; problems: FieldProblem[] };

function problemsOf(errors: ValidationError[], line: number): FieldProblem[] {
  return errors.flatMap((e) =>
    Object.values(e.constraints ?? {}).map((message) => ({
      field: e.property,
      message: message.startsWith('property ') ? `${e.property} is not a known column` : message,
      line,
    })),
  );
}

/** Counts the bytes going through and stops past the limit; hashes them for the audit log. */
export class FileMeter extends Transform {
  bytes = 0;
  private readonly sha = createHash('sha256');

  override _transform(chunk: Buffer, _: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    if (this.bytes > MAX_FILE_BYTES) {
      done(new DomainError('PAYLOAD_TOO_LARGE', `An import may be at most ${MAX_FILE_BYTES / 1024 / 1024} MiB.`));
      return;
    }
    this.sha.update(chunk);
    done(null, chunk);
  }

  digest(): string {
    return this.sha.digest('hex');
  }
}

/**
 * Reads a CSV file as it arrives (never whole): a header naming the columns, then one credit per
 * row, each checked by the same rules as POST /v1/credits. Yields each row, valid or with its
 * problems and line number; a file that is not CSV at all throws INVALID_IMPORT.
 */
export async function* csvRows(body: Readable, meter: FileMeter, now: () => Date): AsyncGenerator<ParsedRow> {
  const parser = parse({
    bom: true,
    columns: (header: string[]) => checkHeader(header),
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_BYTES,
    info: true,
  });
  body.on('error', (error) => parser.destroy(error));
  meter.on('error', (error) => parser.destroy(error));
  body.pipe(meter).pipe(parser);
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      yield checkRow(record, info.lines, now());
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    const { message, lines } = error as { message: string; lines?: number };
    const line = lines ?? 1;
    throw new DomainError('INVALID_IMPORT', `line ${line}: the file is not readable as CSV: ${message}`, [
      { field: 'file', message: `not readable as CSV: ${message}`, line },
    ]);
  }
}

function checkHeader(header: string[]): string[] {
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const name of header) {
    if (!COLUMNS.has(name)) problems.push({ field: name, message: `${name} is not a known column`, line: 1 });
    else if (seen.has(name)) problems.push({ field: name, message: `${name} is given twice`, line: 1 });
    seen.add(name);
  }
  for (const name of REQUIRED_COLUMNS) {
    if (!seen.has(name)) problems.push({ field: name, message: `the ${name} column is required`, line: 1 });
  }
  if (problems.length > 0) {
    throw new DomainError(
      'INVALID_IMPORT',
      `line 1: the header must name the columns ${REQUIRED_COLUMNS.join(', ')} (and may add ${OPTIONAL_COLUMNS.join(', ')})`,
      problems,
    );
  }
  return header;
}

function checkRow(record: Record<string, string>, line: number, now: Date): ParsedRow {
  // As a JSON body would carry it: empty cells are absent, the amount a number where it is one.
  const plain: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) {
    if (value !== '') plain[name] = value;
  }
  // As JSON.parse gives a POST body's amount: a number. At most 13 digits, so exact in a double, and
  // the same hash as the POST; creditFields turns it into a bigint before it goes anywhere else.
  if (typeof plain.amount === 'string' && /^[0-9]{1,13}$/.test(plain.amount)) plain.amount = Number(plain.amount);
  const dto = Object.assign(new ImportRowDto(), plain);
  const problems = problemsOf(
    validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, validationError: { target: false } }),
    line,
  );
  let occurredAt: Date | null = null;
  if (problems.length === 0) {
    occurredAt = new Date(dto.occurredAt);
    if (occurredAt.getTime() > now.getTime() + 5 * 60_000) {
      problems.push({ field: 'occurredAt', message: 'occurredAt must not be in the future', line });
    } else if (occurredAt.getTime() < Date.UTC(2000, 0, 1)) {
      problems.push({ field: 'occurredAt', message: 'occurredAt must not be before 2000', line });
    }
  }
  if (problems.length > 0) return { line, problems };
  // The body a POST /v1/credits would send: every field but externalId (which is the key).
  const body = { ...plain };
  delete body.externalId;
  return {
    line,
    row: {
      line,
      externalId: dto.externalId,
      agentRef: dto.agentRef,
      ...creditFields(dto),
      occurredAt: occurredAt!,
      hash: requestHash(body),
    },
  };
}
