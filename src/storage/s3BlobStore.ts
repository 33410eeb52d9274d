// A region's blob store in an S3-compatible bucket, with the file store's layout under an optional prefix:
// chunks/<hh>/<hash> and manifests/<backupId>.json. A PutObject is atomic (an object appears whole or not at
// all), so each chunk is hashed in memory first and uploaded verified in one request; the manifest goes last.
import { createHash } from "node:crypto";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { type ByteSource, DEFAULT_CHUNK_SIZE, type Manifest, type RegionBlobStore } from "./blobStore.ts";
import { chunkBytes } from "./chunker.ts";
import { CorruptChunkError, ManifestNotFoundError, MissingChunkError } from "./errors.ts";
import { DEFAULT_GC_MIN_AGE_MS } from "./fileBlobStore.ts";
import { assertBackupId, assertHash } from "./keys.ts";
import { assertConsistent, parseManifest, serializeManifest } from "./manifest.ts";
import { isNotFound } from "./s3Client.ts";
import { readBackupChunks } from "./verifiedRead.ts";

export type S3BlobStoreOptions = {
  bucket: string;
  /** "" or a prefix ending in "/" (normalised). */
  prefix?: string;
  /** Bytes per chunk for writeBackup (the chunker's parameter; default 4 MiB). */
  chunkSize?: number;
  /**
   * A chunk found present whose LastModified is older than this is re-stamped (copied onto itself), so a GC
   * running next to the writer that reuses it sees it as young. Keep it well under the GC's minAgeMs.
   */
  refreshAfterMs?: number;
};

const REFRESH_AFTER_MS = 10 * 60 * 1000;

export class S3BlobStore implements RegionBlobStore {
  readonly bucket: string;
  readonly prefix: string;
  readonly chunkSize: number;
  private readonly refreshAfterMs: number;

  constructor(
    readonly regionId: string,
    readonly client: S3Client,
    options: S3BlobStoreOptions,
  ) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ? `${options.prefix.replace(/\/+$/, "")}/` : "";
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize <= 0) throw new RangeError("chunkSize must be positive");
    this.refreshAfterMs = options.refreshAfterMs ?? REFRESH_AFTER_MS;
  }

  chunkKey(hash: string): string {
    return `${this.prefix}chunks/${hash.slice(0, 2)}/${hash}`;
  }

  manifestKey(backupId: string): string {
    return `${this.prefix}manifests/${backupId}.json`;
  }

  async hasChunk(hash: string): Promise<boolean> {
    assertHash(hash);
    let lastModified: Date | undefined;
    try {
      ({ LastModified: lastModified } = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.chunkKey(hash) }),
      ));
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    // Like the file store's utimes: a writer about to reference an old unreferenced chunk keeps GC off it.
    if (!lastModified || Date.now() - lastModified.getTime() > this.refreshAfterMs) await this.refresh(hash);
    return true;
  }

  async writeBackup(backupId: string, source: ByteSource, options: { signal?: AbortSignal } = {}): Promise<Manifest> {
    assertBackupId(backupId);
    const { signal } = options;
    const chunks: Manifest["chunks"] = [];
    let sizeBytes = 0;
    for await (const chunk of chunkBytes(source, this.chunkSize, signal)) {
      const hash = createHash("sha256").update(chunk).digest("hex");
      if (!(await this.hasChunk(hash))) await this.putVerified(hash, chunk, signal);
      chunks.push({ hash, size: chunk.length });
      sizeBytes += chunk.length;
    }
    signal?.throwIfAborted();
    const manifest: Manifest = { backupId, sizeBytes, chunks, createdAt: new Date().toISOString() };
    await this.putManifest(manifest);
    return manifest;
  }

  async readManifest(backupId: string): Promise<Manifest | null> {
    assertBackupId(backupId);
    let text: string;
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.manifestKey(backupId) }),
      );
      text = await object.Body!.transformToString("utf8");
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    return parseManifest(text, `${this.regionId}/${backupId}`);
  }

  async *readBackup(
    backupId: string,
    options: { verify?: boolean; signal?: AbortSignal } = {},
  ): AsyncGenerator<Buffer> {
    const { verify = true, signal } = options;
    signal?.throwIfAborted();
    const manifest = await this.readManifest(backupId);
    if (!manifest) throw new ManifestNotFoundError(backupId, this.regionId);
    yield* readBackupChunks(manifest, (hash) => this.readObject(hash, backupId, signal), { verify, signal });
  }

  readChunk(hash: string): AsyncIterable<Buffer> {
    assertHash(hash);
    return this.readObject(hash);
  }

  async putChunk(hash: string, data: AsyncIterable<Uint8Array>): Promise<void> {
    assertHash(hash);
    // One chunk in memory (≤ the chunker's largest), so the upload is a single atomic PutObject of checked bytes.
    const buffers: Buffer[] = [];
    const hasher = createHash("sha256");
    for await (const piece of data) {
      hasher.update(piece);
      buffers.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
    }
    const actual = hasher.digest("hex");
    if (actual !== hash) throw new CorruptChunkError(hash, `received bytes hash to ${actual}`);
    await this.putVerified(hash, buffers.length === 1 ? buffers[0] : Buffer.concat(buffers));
  }

  async putManifest(manifest: Manifest): Promise<void> {
    assertBackupId(manifest.backupId);
    for (const { hash } of manifest.chunks) assertHash(hash);
    assertConsistent(manifest);
    // The invariant readers rely on: never publish a manifest whose chunks aren't all here.
    const distinct = [...new Set(manifest.chunks.map((chunk) => chunk.hash))];
    await inBatches(distinct, 32, async (hash) => {
      if (!(await this.hasChunk(hash))) throw new MissingChunkError(hash, manifest.backupId);
    });
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.manifestKey(manifest.backupId),
        Body: serializeManifest(manifest),
        ContentType: "application/json",
      }),
    );
  }

  async deleteBackup(backupId: string): Promise<void> {
    assertBackupId(backupId);
    // DeleteObject of an absent key succeeds: idempotent by itself.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.manifestKey(backupId) }));
  }

  async collectGarbage(options: { minAgeMs?: number } = {}): Promise<{ removedChunks: number }> {
    const cutoff = Date.now() - (options.minAgeMs ?? DEFAULT_GC_MIN_AGE_MS);
    const referenced = new Set<string>();
    for (const backupId of await this.listBackupIds()) {
      const manifest = await this.readManifest(backupId);
      for (const chunk of manifest?.chunks ?? []) referenced.add(chunk.hash);
    }
    let removedChunks = 0;
    for await (const object of this.list(`${this.prefix}chunks/`)) {
      const hash = object.key.slice(object.key.lastIndexOf("/") + 1);
      // Anything that isn't a chunk key of this layout is not ours to delete.
      if (!/^[0-9a-f]{64}$/.test(hash) || object.key !== this.chunkKey(hash) || referenced.has(hash)) continue;
      if (object.lastModified.getTime() > cutoff) continue;
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: object.key }));
      removedChunks++;
    }
    return { removedChunks };
  }

  async totalBytes(): Promise<number> {
    let total = 0;
    for await (const object of this.list(`${this.prefix}chunks/`)) total += object.size;
    return total;
  }

  /** Ids of every stored manifest. */
  async listBackupIds(): Promise<string[]> {
    const ids: string[] = [];
    const base = `${this.prefix}manifests/`;
    for await (const { key } of this.list(base)) {
      const name = key.slice(base.length);
      if (name.endsWith(".json") && !name.includes("/")) ids.push(name.slice(0, -".json".length));
    }
    return ids;
  }

  private async putVerified(hash: string, bytes: Buffer, signal?: AbortSignal): Promise<void> {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.chunkKey(hash),
      Body: bytes,
      ContentLength: bytes.length,
    });
    // The chunk's name is the SHA-256 SigV4 signs as the payload hash: the SDK need not hash it again, and S3
    // rejects the upload if the bytes it receives differ (XAmzContentSHA256Mismatch).
    command.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers["x-amz-content-sha256"] = hash;
        return next(args);
      },
      { step: "build", name: "chunkPayloadHash" },
    );
    await this.client.send(command, { abortSignal: signal });
  }

  /** Re-stamps LastModified by copying the object onto itself (server-side; no bytes travel). Best effort. */
  private async refresh(hash: string): Promise<void> {
    const key = this.chunkKey(hash);
    await this.client
      .send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: `${this.bucket}/${key.split("/").map(encodeURIComponent).join("/")}`,
          MetadataDirective: "REPLACE",
          Metadata: { refreshed: new Date().toISOString() },
        }),
      )
      .catch(() => {});
  }

  /** Streams an object's body; a missing object becomes MissingChunkError when iteration starts. */
  private async *readObject(hash: string, backupId?: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
    let body: AsyncIterable<Uint8Array>;
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.chunkKey(hash) }), {
        abortSignal: signal,
      });
      body = object.Body as unknown as AsyncIterable<Uint8Array>;
    } catch (error) {
      if (isNotFound(error)) throw new MissingChunkError(hash, backupId);
      throw error;
    }
    const stream = body as unknown as { destroy?: () => void };
    try {
      for await (const piece of body) yield Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
    } finally {
      // Stopped early (a corrupt chunk, an abort): release the connection.
      stream.destroy?.();
    }
  }

  /** Every object under `prefix`, page by page (ListObjectsV2). */
  private async *list(prefix: string): AsyncGenerator<{ key: string; size: number; lastModified: Date }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        yield { key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified ?? new Date() };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

/** Runs `work` over `items`, at most `width` at a time; the first failure rejects. */
async function inBatches<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}
