// A region's objects as files under one directory. Every file is written atomically (temp + fsync + rename), and the
// directory is fsynced after the rename, so a crash leaves the old state or the whole new object, never a part.
import { type FileHandle, mkdir, open, readdir, readFile, rename, stat, unlink, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import { syncDirectory, TEMP_SUFFIX, tempPathFor } from "./atomicFile.ts";
import type { ObjectMedium, StoredObject } from "./medium.ts";

const isNotFound = (error: unknown) => (error as NodeJS.ErrnoException).code === "ENOENT";

export class FileMedium implements ObjectMedium {
  readonly cheapTouch = true;
  /** Directories already created by this instance, to skip a mkdir per write. */
  private readonly madeDirs = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly fsync: boolean,
  ) {}

  path(key: string): string {
    return join(this.dir, key);
  }

  async get(key: string, range?: { offset: number; length: number; into?: Buffer }): Promise<Buffer | null> {
    try {
      if (!range) return await readFile(this.path(key));
      const handle = await open(this.path(key), "r");
      try {
        const buffer =
          range.into && range.into.length >= range.length
            ? range.into.subarray(0, range.length)
            : Buffer.allocUnsafe(range.length);
        let filled = 0;
        while (filled < range.length) {
          const { bytesRead } = await handle.read(buffer, filled, range.length - filled, range.offset + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return filled === range.length ? buffer : buffer.subarray(0, filled);
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  put(key: string, data: Buffer[], signal?: AbortSignal): Promise<void> {
    return this.putAll([{ key, data }], signal);
  }

  /**
   * Each object to a temp file in its folder, every temp file fsynced, then renamed into place in order, then each
   * folder fsynced once: a pack and its index (same folder) cost two file fsyncs and one folder fsync.
   */
  async putAll(objects: { key: string; data: Buffer[] }[], signal?: AbortSignal): Promise<void> {
    const temps: { temp: string; path: string }[] = [];
    let committed = 0;
    try {
      const handles: FileHandle[] = [];
      try {
        for (const { key, data } of objects) {
          const path = this.path(key);
          const dir = dirname(path);
          if (!this.madeDirs.has(dir)) {
            await mkdir(dir, { recursive: true });
            this.madeDirs.add(dir);
          }
          const temp = tempPathFor(path);
          const handle = await open(temp, "wx");
          handles.push(handle);
          temps.push({ temp, path });
          // writev takes a bounded number of buffers per call.
          for (let i = 0; i < data.length; i += 1024) await handle.writev(data.slice(i, i + 1024));
        }
        if (this.fsync) await Promise.all(handles.map((handle) => handle.sync()));
      } finally {
        await Promise.all(handles.map((handle) => handle.close()));
      }
      signal?.throwIfAborted();
      for (const { temp, path } of temps) {
        await rename(temp, path);
        committed++;
      }
    } finally {
      for (const { temp } of temps.slice(committed)) await unlink(temp).catch(() => {});
    }
    if (this.fsync) for (const dir of new Set(temps.map(({ path }) => dirname(path)))) await syncDirectory(dir);
  }

  async delete(key: string): Promise<void> {
    await unlink(this.path(key)).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
  }

  async *list(prefix: string, options: { times?: boolean } = {}): AsyncGenerator<StoredObject> {
    // Keys are at most two folders deep (packs/<hh>/<id>.pack); temp files start with a dot.
    const walk = async function* (this: FileMedium, rel: string): AsyncGenerator<StoredObject> {
      for (const entry of await listDir(this.path(rel))) {
        const key = `${rel}${entry.name}`;
        if (entry.isDirectory()) yield* walk.call(this, `${key}/`);
        else if (entry.isFile() && !entry.name.startsWith(".")) {
          if (!options.times) yield { key, size: 0, lastModified: 0 };
          else {
            const info = await this.head(key);
            if (info) yield info;
          }
        }
      }
    };
    yield* walk.call(this, prefix);
  }

  async head(key: string): Promise<StoredObject | null> {
    try {
      const info = await stat(this.path(key));
      return { key, size: info.size, lastModified: info.mtimeMs };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async touch(key: string): Promise<void> {
    const now = new Date();
    await utimes(this.path(key), now, now).catch(() => {});
  }

  async sweepTemps(cutoff: number): Promise<void> {
    const sweep = async (rel: string): Promise<void> => {
      for (const entry of await listDir(this.path(rel))) {
        const path = this.path(`${rel}${entry.name}`);
        if (entry.isDirectory()) await sweep(`${rel}${entry.name}/`);
        else if (entry.name.endsWith(TEMP_SUFFIX) || entry.name.endsWith(".part")) {
          const info = await stat(path).catch(() => null);
          if (info && info.mtimeMs <= cutoff) await unlink(path).catch(() => {});
        }
      }
    };
    await sweep("");
  }
}

async function listDir(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isNotFound(error) || (error as NodeJS.ErrnoException).code === "ENOTDIR") return [];
    throw error;
  }
}
