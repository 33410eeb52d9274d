// How recovery's bulk loads travel to PostgreSQL. A batch of rows is one `bytea` parameter (a Buffer: off the V8
// heap, sent in binary format by `pg`) holding a JSON array that PostgreSQL reads with `json_to_recordset`. A
// backup's row lines are copied into it byte for byte, so rows are never re-serialised. (PostgreSQL's binary array
// format for text[]/int8[] via `unnest` was tried too and was no faster.) These statements used to go through Prisma,
// which retained every parameter in its debug history (~100 MB of heap for 1 MB batches) and serialised it to JSON
// and back: one reason the simulator talks to its database through `pg` only.

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
