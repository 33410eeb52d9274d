// Bulk statements of the simulator (loading a backup's rows during a recovery) bypass Prisma and go to PostgreSQL
// through `pg` directly. Two reasons, both measured on a 70 MB restore:
//   - memory: Prisma 7 keeps the arguments of its last 100 debug calls, enabled or not (`@prisma/debug`'s
//     `argsHistory` and the client runtime's copy of it), and every raw query logs its parameters there (the adapter
//     logs the query with its args, the client its serialised values). A multi-megabyte batch parameter is thus
//     retained ~100 times over: ~100 MB of heap for 1 MB batches, whatever is done with the batch afterwards.
//   - speed: Prisma serialises every raw parameter to JSON and parses it back before the driver sees it (two extra
//     passes over the data, with escaping), which made the load CPU-bound in Prisma's runtime.
// A batch travels as one `bytea` parameter (a Buffer: off the V8 heap, sent in binary format by `pg`) holding a JSON
// array that PostgreSQL reads with `json_to_recordset`. (PostgreSQL's binary array format for text[]/int8[] via
// `unnest` was tried too and was no faster.) Without a pool the same statements go through Prisma in smaller batches
// (see `BulkSql.fallback`).
import type pg from "pg";
import type { Db } from "../db/types.ts";

export type BulkSqlOptions = {
  /** The pool bulk statements use (see `createBulkPool`); not ended by `close`. Without one they go through Prisma. */
  pool?: pg.Pool;
};

export class BulkSql {
  private readonly pool: pg.Pool | null;
  /** True when statements go through Prisma (no pg pool given): callers keep batches small. */
  readonly fallback: boolean;

  constructor(
    private readonly db: Db,
    options: BulkSqlOptions = {},
  ) {
    this.pool = options.pool ?? null;
    this.fallback = this.pool === null;
  }

  /** Runs one statement (`$1`… placeholders; strings, Buffers and nulls as parameters) and returns its rows. */
  async query<R>(sql: string, params: readonly (string | Buffer | null)[]): Promise<R[]> {
    if (this.pool) return (await this.pool.query(sql, params as unknown[])).rows as R[];
    return this.db.$queryRawUnsafe<R[]>(sql, ...params);
  }
}

/** A batch of rows ready for one statement: a table expression giving columns "key", "value", "position". */
export type RowBatchSql = { source: string; params: (string | Buffer)[] };

/** A growing Buffer. */
class ByteBuffer {
  buffer: Buffer;
  length = 0;

  constructor(initialBytes: number) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  /** The bytes written so far; the buffer starts over (new memory: the returned view stays valid). */
  take(): Buffer {
    const out = this.buffer.subarray(0, this.length);
    this.buffer = Buffer.allocUnsafe(Math.min(Math.max(64 * 1024, this.length), 16 * 1024 * 1024));
    this.length = 0;
    return out;
  }
}

/**
 * Rows for one load statement, as one JSON array `[{"key":…,"value":…,"position":"…"},…]` in a growing Buffer (off
 * the V8 heap; at most one row's JSON is ever a string), sent as a `bytea` parameter. Rows are a backup's own entry
 * lines (`pushLine`: a row entry line of the NDJSON format is such an object, so its bytes are copied as they are) or
 * serialised here (`push`). `take()` hands the batch over as SQL and starts a new one.
 */
export class RowBatch {
  private readonly json = new ByteBuffer(64 * 1024);
  rows = 0;

  get bytes(): number {
    return this.json.length;
  }

  /** Appends a row; `position` must be a decimal string (it is not escaped). */
  push(key: string, value: string, position: string): void {
    const row = `{"key":${JSON.stringify(key)},"value":${JSON.stringify(value)},"position":"${position}"}`;
    this.json.reserve(row.length * 3 + 2);
    this.json.buffer[this.json.length++] = this.rows === 0 ? 0x5b /* [ */ : 0x2c /* , */;
    this.json.length += this.json.buffer.write(row, this.json.length);
    this.rows++;
  }

  /** Appends a row given as the bytes of one JSON object with those fields (a row entry line that parsed as one). */
  pushLine(line: Uint8Array): void {
    this.json.reserve(line.length + 2);
    this.json.buffer[this.json.length++] = this.rows === 0 ? 0x5b /* [ */ : 0x2c /* , */;
    this.json.buffer.set(line, this.json.length);
    this.json.length += line.length;
    this.rows++;
  }

  /** The batch as SQL (its parameter is $3); the batch starts over empty. */
  take(): RowBatchSql {
    if (this.rows === 0) this.json.buffer[this.json.length++] = 0x5b;
    this.json.buffer[this.json.length++] = 0x5d; /* ] */
    this.rows = 0;
    return {
      source: `json_to_recordset(convert_from($3::bytea, 'UTF8')::json) AS t("key" text, "value" text, "position" bigint)`,
      params: [this.json.take()],
    };
  }
}
