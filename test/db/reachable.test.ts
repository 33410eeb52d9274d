import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { checkPostgres, checkRedis, StartupError } from "../../src/db/reachable.ts";

const postgresUrl = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const SECRET = "s3cret-pw";

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A port nothing listens on: bound by the kernel, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Accepts TCP and never replies, nor closes its side (like a hung server); `closed` settles when the client has
 * closed its side.
 */
async function silentServer(): Promise<{ port: number; closed: Promise<void> }> {
  let clientClosed!: () => void;
  const closed = new Promise<void>((resolve) => (clientClosed = resolve));
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on("error", () => undefined);
    socket.once("end", () => clientClosed());
    // Read and drop what the client sends, so its closing is seen.
    socket.resume();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, closed };
}

async function startupError(check: Promise<void>): Promise<StartupError> {
  const error = await check.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StartupError);
  expect((error as Error).message).not.toContain(SECRET);
  expect((error as Error).message).not.toContain("\n");
  return error as StartupError;
}

const handles = (kind: string) => process.getActiveResourcesInfo().filter((active) => active === kind).length;

/** Polls `condition` (a handle's release has no event of its own to wait on). */
async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const checks = [
  { name: "PostgreSQL", check: checkPostgres, variable: "DATABASE_URL", scheme: "postgresql", ok: postgresUrl },
  { name: "Redis", check: checkRedis, variable: "REDIS_URL", scheme: "redis", ok: redisUrl },
];

describe.each(checks)("check$name", ({ name, check, variable, scheme, ok }) => {
  it("resolves when the server answers", async () => {
    await check(variable, ok, 5000);
  });

  it("names the variable and the address when the connection is refused", async () => {
    const port = await closedPort();
    const error = await startupError(check(variable, `${scheme}://user:${SECRET}@127.0.0.1:${port}/db`, 5000));
    expect(error.message).toBe(`${variable}: ${name} at 127.0.0.1:${port} does not answer (connection refused)`);
  });

  it("reports an unknown host", async () => {
    const url = `${scheme}://user:${SECRET}@no-such-host.invalid:4321/db`;
    const error = await startupError(check(variable, url, 5000));
    expect(error.message).toMatch(
      new RegExp(
        `^${variable}: ${name} at no-such-host.invalid:4321 does not answer \\((unknown host|host name lookup failed)\\)$`,
      ),
    );
  });

  it("gives up on a server that accepts TCP but never answers, and closes its socket", async () => {
    const silent = await silentServer();
    const socketsBefore = handles("TCPSocketWrap");
    const started = Date.now();
    const url = `${scheme}://user:${SECRET}@127.0.0.1:${silent.port}/db`;
    const error = await startupError(check(variable, url, 400));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.message).toBe(
      `${variable}: ${name} at 127.0.0.1:${silent.port} does not answer (no reply within 400 ms)`,
    );
    await within(silent.closed, 2000, "client socket close");
    // Only the server's own side of the connection may remain.
    await until(() => handles("TCPSocketWrap") <= socketsBefore + 1, 1000, "the check's socket released");
  });

  it("rejects a URL it cannot parse without echoing it", async () => {
    const error = await startupError(check(variable, `not a url ${SECRET}`, 1000));
    expect(error.message).toBe(`${variable}: not a valid URL`);
  });
});
