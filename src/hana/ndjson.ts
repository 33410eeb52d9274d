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

const encoder = new TextEncoder();

/** Encodes objects as NDJSON lines in one chunk. */
export function encodeLines(objects: readonly unknown[]): Uint8Array {
  let text = "";
  for (const object of objects) text += `${JSON.stringify(object)}\n`;
  return encoder.encode(text);
}

export function trailer(entries: number): Trailer {
  return { end: true, entries };
}

/** Splits a byte stream into lines, whatever the chunk boundaries (UTF-8 sequences may be split too). */
export async function* readLines(stream: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pending = "";
  try {
    for await (const chunk of stream) {
      pending += decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let newline = pending.indexOf("\n"); newline !== -1; newline = pending.indexOf("\n", start)) {
        yield pending.slice(start, newline);
        start = newline + 1;
      }
      pending = pending.slice(start);
    }
    pending += decoder.decode();
  } catch (error) {
    if (error instanceof TypeError)
      throw new HanaBackupFormatError(`backup stream is not valid UTF-8: ${error.message}`);
    throw error;
  }
  if (pending.length > 0) yield pending;
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
  const lines = readLines(stream);
  const first = await lines.next();
  if (first.done) throw new HanaBackupFormatError("backup stream is empty");
  const header = parseLine(first.value, 1) as Partial<BackupHeader>;
  if (header.format !== BACKUP_FORMAT) {
    await lines.return(undefined);
    throw new HanaBackupFormatError(`not a ${BACKUP_FORMAT} backup stream (format ${JSON.stringify(header.format)})`);
  }
  if (!header.type || !expected.includes(header.type)) {
    await lines.return(undefined);
    throw new HanaBackupFormatError(`expected a ${expected.join("/")} backup, got ${header.type}`);
  }
  async function* entries(): AsyncGenerator<never> {
    let count = 0;
    let lineNumber = 1;
    for await (const line of lines) {
      lineNumber++;
      const parsed = parseLine(line, lineNumber) as Record<string, unknown>;
      if (parsed.end === true) {
        if (parsed.entries !== count) {
          throw new HanaBackupFormatError(`backup stream trailer says ${parsed.entries} entries, read ${count}`);
        }
        const extra = await lines.next();
        if (!extra.done && extra.value.trim() !== "") throw new HanaBackupFormatError("data after the trailer");
        return;
      }
      count++;
      yield parsed as never;
    }
    throw new HanaBackupFormatError(`backup stream is truncated after ${count} entries (no trailer)`);
  }
  const generator = entries();
  const close = async () => {
    await generator.return(undefined);
    await lines.return(undefined);
  };
  return { header: header as BackupHeader, entries: generator, close } as
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
