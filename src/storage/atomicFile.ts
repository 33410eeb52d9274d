// Crash-safe file writes: data goes to a temp file in the target's directory (same file system, so rename is
// atomic), is fsynced, then renamed into place; readers see the old file or the whole new one, never a part.
import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Suffix of every temp file, so garbage collection can recognise leftovers of a crash. */
export const TEMP_SUFFIX = ".tmp";

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}${TEMP_SUFFIX}`);
}

export type AtomicWriteOptions = {
  /** fsync the file before the rename and the directory after it (default true). */
  fsync?: boolean;
  /** Runs after all bytes are written, before the rename; throwing aborts the write and removes the temp file. */
  beforeCommit?: () => void | Promise<void>;
};

/** Writes `data` (one buffer, or pieces streamed one at a time) to `path` atomically. */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | AsyncIterable<Uint8Array>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const fsync = options.fsync ?? true;
  const temp = tempPathFor(path);
  const handle = await open(temp, "wx");
  let committed = false;
  try {
    try {
      if (data instanceof Uint8Array) await handle.writeFile(data);
      else for await (const piece of data) await handle.write(piece);
      if (fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await options.beforeCommit?.();
    await rename(temp, path);
    committed = true;
  } finally {
    if (!committed) await unlink(temp).catch(() => {});
  }
  if (fsync) await syncDirectory(dirname(path));
}

/** Makes a rename durable. Some platforms can't open or fsync a directory; there it is skipped. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EBADF") throw error;
  } finally {
    await handle?.close();
  }
}
