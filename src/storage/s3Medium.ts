// A region's objects in an S3-compatible bucket under an optional key prefix. A PutObject is atomic (an object
// appears whole or not at all) and durable when it returns; reads of packs are ranged GETs.
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { ObjectMedium, StoredObject } from "./medium.ts";
import { isNotFound } from "./s3Client.ts";

export class S3Medium implements ObjectMedium {
  readonly cheapTouch = false;

  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    readonly prefix: string,
  ) {}

  key(key: string): string {
    return `${this.prefix}${key}`;
  }

  async get(key: string, range?: { offset: number; length: number }, signal?: AbortSignal): Promise<Buffer | null> {
    if (range?.length === 0) return Buffer.alloc(0);
    try {
      const object = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key(key),
          Range: range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined,
        }),
        { abortSignal: signal },
      );
      const bytes = await object.Body!.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      if (isNotFound(error)) return null;
      // A range that starts past the end: the object is shorter than its index says.
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416) {
        return Buffer.alloc(0);
      }
      throw error;
    }
  }

  async put(key: string, data: Buffer[], signal?: AbortSignal): Promise<void> {
    const body = data.length === 1 ? data[0] : Buffer.concat(data);
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.key(key), Body: body, ContentLength: body.length }),
      { abortSignal: signal },
    );
  }

  /** One PutObject after another: each is atomic and durable when it returns, so order is visibility order. */
  async putAll(objects: { key: string; data: Buffer[] }[], signal?: AbortSignal): Promise<void> {
    for (const { key, data } of objects) await this.put(key, data, signal);
  }

  async delete(key: string): Promise<void> {
    // DeleteObject of an absent key succeeds: idempotent by itself.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
  }

  async *list(prefix: string): AsyncGenerator<StoredObject> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.key(prefix), ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key?.startsWith(this.prefix)) continue;
        const key = object.Key.slice(this.prefix.length);
        yield { key, size: object.Size ?? 0, lastModified: object.LastModified?.getTime() ?? Date.now() };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async head(key: string): Promise<StoredObject | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return { key, size: head.ContentLength ?? 0, lastModified: head.LastModified?.getTime() ?? Date.now() };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** Re-stamps LastModified by copying the object onto itself (server-side; no bytes travel). Best effort. */
  async touch(key: string): Promise<void> {
    const full = this.key(key);
    await this.client
      .send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: full,
          CopySource: `${this.bucket}/${full.split("/").map(encodeURIComponent).join("/")}`,
          MetadataDirective: "REPLACE",
          Metadata: { refreshed: new Date().toISOString() },
        }),
      )
      .catch(() => {});
  }
}
