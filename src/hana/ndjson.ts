// The simulator's backup stream format: NDJSON (one JSON object per line, "\n"-terminated, UTF-8).
//
//   line 1        header   {"format":"mvg-hana-sim/1","kind":"DATA"|"LOG","type":..., "database":..., ...}
//   lines 2..n-1  entries  DATA: {"key":"…","value":"…","position":"…"}  (one per row, in key order for COMPLETE,
//                                                                         in (position, key) order for deltas)
//                          LOG:  {"position":"…","commitTime":"ISO-8601","digest":"…","rows":[{"key":"…","value":"…"}]}
//   last line     trailer  {"end":true,"entries":<number of entry lines>}
//
// Log positions are decimal strings (they are 64-bit). A stream without its trailer is truncated and refused.
import { HanaBackupFormatError, type HanaBackupType } from "./connector.ts";

export const BACKUP_FORMAT = "mvg-hana-sim/1";

export type DataBackupHeader = {
  format: typeof BACKUP_FORMAT;
  kind: "DATA";
  type: "COMPLETE" | "DIFFERENTIAL" | "INCREMENTAL";
  database: string;
  /** Snapshot position (start = end for data backups). */
  logPositionStart: string;
  logPositionEnd: string;
  /** DIFFERENTIAL/INCREMENTAL: the position the delta is relative to; COMPLETE: null. */
  basePosition: string | null;
  /** Commit time at the snapshot position (null when nothing was ever committed). */
  commitTime: string | null;
  /** Content digest of the whole database at the snapshot position. */
  digest: string;
  /** Number of row lines that follow. */
  rowCount: number;
};

export type LogBackupHeader = {
  format: typeof BACKUP_FORMAT;
  kind: "LOG";
  type: "LOG";
  database: string;
  logPositionStart: string;
  logPositionEnd: string;
  basePosition: null;
  /** Commit time of the last commit covered. */
  commitTime: string;
  /** Content digest after the last commit covered. */
  digest: string;
  /** Number of commit lines that follow. */
  commitCount: number;
};

export type BackupHeader = DataBackupHeader | LogBackupHeader;
export type RowEntry = { key: string; value: string; position: string };
export type CommitEntry = {
  position: string;
  commitTime: string;
  digest: string;
  rows: { key: string; value: string }[];
};
type Trailer = { end: true; entries: number };

const NEWLINE = 0x0a;

/**
 * Encodes objects as NDJSON lines in one chunk. Each line is serialised on its own and written straight into the
 * chunk's bytes, so no string as large as the chunk is ever built (a big string lands in V8's large-object space
 * and stays there as garbage until the next full GC; a Buffer is off-heap and freed as soon as it is dropped).
 */
export function encodeLines(objects: readonly unknown[]): Uint8Array {
  const lines = objects.map((object) => JSON.stringify(object));
  let size = 0;
  for (const line of lines) size += Buffer.byteLength(line) + 1;
  const bytes = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const line of lines) {
    offset += bytes.write(line, offset);
    bytes[offset++] = NEWLINE;
  }
  return bytes;
}

export function trailer(entries: number): Trailer {
  return { end: true, entries };
}

/**
 * Splits a byte stream into lines, as bytes, whatever the chunk boundaries. A yielded line is a view into the
 * current chunk, valid until the next one is pulled (copy it to keep it). Memory is one input chunk plus the start
 * of a line that continues in a later chunk (copied, so no chunk is retained because of it).
 */
export async function* readLineBytes(stream: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let carry: Buffer[] = [];
  for await (const chunk of stream) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    let newline = bytes.indexOf(NEWLINE);
    if (newline === -1) {
      if (bytes.length > 0) carry.push(Buffer.from(bytes));
      continue;
    }
    if (carry.length > 0) {
      carry.push(bytes.subarray(0, newline));
      const line = Buffer.concat(carry);
      carry = [];
      yield line;
      start = newline + 1;
      newline = bytes.indexOf(NEWLINE, start);
    }
    for (; newline !== -1; newline = bytes.indexOf(NEWLINE, start)) {
      yield bytes.subarray(start, newline);
      start = newline + 1;
    }
    if (start < bytes.length) carry.push(Buffer.from(bytes.subarray(start)));
  }
  if (carry.length > 0) yield Buffer.concat(carry);
}

/** UTF-8 → string for one line (0x0A never occurs inside a multi-byte UTF-8 sequence, so lines decode alone). */
function lineDecoder(): (bytes: Uint8Array) => string {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  return (bytes) => {
    try {
      return decoder.decode(bytes);
    } catch (error) {
      throw new HanaBackupFormatError(`backup stream is not valid UTF-8: ${(error as Error).message}`);
    }
  };
}

/**
 * Splits a byte stream into lines, whatever the chunk boundaries (UTF-8 sequences may be split too). Each line is
 * decoded on its own, so no string larger than a line is built and no line keeps a decoded chunk alive.
 */
export async function* readLines(stream: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decode = lineDecoder();
  for await (const line of readLineBytes(stream)) yield decode(line);
}

function parseLine(line: string, lineNumber: number): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new HanaBackupFormatError(`backup stream line ${lineNumber} is not JSON`);
  }
}

export type OpenedBackup<H extends BackupHeader, E> = {
  header: H;
  entries: AsyncGenerator<E>;
  /**
   * The UTF-8 bytes of the line the entry last yielded was parsed from (valid until the next entry is pulled), for
   * a caller that passes entries on as JSON without serialising them again.
   */
  lineBytes: () => Uint8Array;
  /** Stops reading and releases the underlying stream (safe to call at any time, more than once). */
  close: () => Promise<void>;
};

/**
 * Reads a backup stream's header, checks it is of one of `expected` types, and returns the entries as a generator
 * that checks the trailer (count included) when it reaches the end.
 */
export async function openBackup(
  stream: AsyncIterable<Uint8Array>,
  expected: readonly HanaBackupType[],
): Promise<OpenedBackup<DataBackupHeader, RowEntry> | OpenedBackup<LogBackupHeader, CommitEntry>> {
  const lines = readLineBytes(stream);
  const decode = lineDecoder();
  const first = await lines.next();
  if (first.done) throw new HanaBackupFormatError("backup stream is empty");
  const header = (parseLine(decode(first.value), 1) ?? {}) as Partial<BackupHeader>;
  if (header.format !== BACKUP_FORMAT) {
    await lines.return(undefined);
    throw new HanaBackupFormatError(`not a ${BACKUP_FORMAT} backup stream (format ${JSON.stringify(header.format)})`);
  }
  if (!header.type || !expected.includes(header.type)) {
    await lines.return(undefined);
    throw new HanaBackupFormatError(`expected a ${expected.join("/")} backup, got ${header.type}`);
  }
  let current: Uint8Array = new Uint8Array(0);
  async function* entries(): AsyncGenerator<never> {
    let count = 0;
    let lineNumber = 1;
    for await (const line of lines) {
      lineNumber++;
      const parsed = parseLine(decode(line), lineNumber) as Record<string, unknown> | null;
      if (typeof parsed === "object" && parsed !== null && parsed.end === true) {
        if (parsed.entries !== count) {
          throw new HanaBackupFormatError(`backup stream trailer says ${parsed.entries} entries, read ${count}`);
        }
        const extra = await lines.next();
        if (!extra.done && decode(extra.value).trim() !== "") {
          throw new HanaBackupFormatError("data after the trailer");
        }
        return;
      }
      count++;
      current = line;
      yield parsed as never;
    }
    throw new HanaBackupFormatError(`backup stream is truncated after ${count} entries (no trailer)`);
  }
  const generator = entries();
  const close = async () => {
    await generator.return(undefined);
    await lines.return(undefined);
  };
  return { header: header as BackupHeader, entries: generator, lineBytes: () => current, close } as
    | OpenedBackup<DataBackupHeader, RowEntry>
    | OpenedBackup<LogBackupHeader, CommitEntry>;
}

/** Groups an async iterable into arrays whose summed `weight` reaches at most about `size`. */
export async function* inBatches<T>(
  items: AsyncIterable<T>,
  size: number,
  weight: (item: T) => number = () => 1,
): AsyncGenerator<T[]> {
  let batch: T[] = [];
  let total = 0;
  for await (const item of items) {
    batch.push(item);
    total += weight(item);
    if (total >= size) {
      yield batch;
      batch = [];
      total = 0;
    }
  }
  if (batch.length > 0) yield batch;
}
