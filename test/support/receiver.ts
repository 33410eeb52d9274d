// A real HTTP webhook receiver on loopback (port 0): records every request and answers as the test tells it.
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export type Received = { headers: IncomingMessage["headers"]; body: string; at: number };

/** How to answer the n-th request (0-based): a status, after a delay, with a body of `bodyBytes`, or hang up. */
export type Answer = { status?: number; delayMs?: number; bodyBytes?: number; hangUp?: boolean; never?: boolean };

export async function startReceiver(answer: (n: number, request: Received) => Answer = () => ({ status: 200 })) {
  const received: Received[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
    const n = received.push(request) - 1;
    for (const waiter of waiters.filter((w) => received.length >= w.count)) waiter.resolve();
    const reply = answer(n, request);
    if (reply.never) {
      open.add(res);
      return;
    }
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (reply.hangUp) {
      req.socket.destroy();
      return;
    }
    res.writeHead(reply.status ?? 200, { "content-type": "text/plain" });
    if (!reply.bodyBytes) return res.end();
    // Streamed with backpressure; a reader that stops early closes the connection and ends the stream.
    const block = Buffer.alloc(64 * 1024, 120);
    const total = reply.bodyBytes;
    async function* body() {
      for (let sent = 0; sent < total; sent += block.length)
        yield block.subarray(0, Math.min(block.length, total - sent));
    }
    await pipeline(Readable.from(body()), res).catch(() => {});
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    /** Resolves once `count` requests arrived, or fails after `ms`. */
    waitFor(count: number, ms: number): Promise<void> {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`receiver: ${received.length}/${count} requests in ${ms} ms`)),
          ms,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, "close").catch(() => {});
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
