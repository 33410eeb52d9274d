// Start-up checks: one clear line naming the variable and the address (never the password) instead of a
// stack trace from the first query, and within a bound so a dead server can't hold the start.
import { Redis } from "ioredis";
import pg from "pg";

export class StartupError extends Error {
  override name = "StartupError";
}

export async function checkPostgres(variable: string, url: string, timeoutMs = 8000): Promise<void> {
  const where = `PostgreSQL at ${address(variable, url, 5432)}`;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => undefined);
  let failed = true;
  try {
    await withDeadline(
      client.connect().then(() => client.query("select 1")),
      timeoutMs,
    );
    failed = false;
  } catch (error) {
    // A missing database is created at start: the server did answer.
    if ((error as { code?: string }).code === "3D000") return;
    throw new StartupError(`${variable}: ${where} ${failure(error, timeoutMs, url)}`);
  } finally {
    // A server that never answers would keep a polite goodbye waiting: cut the socket instead.
    if (failed) client.connection.stream.destroy();
    await withDeadline(client.end(), 1000).catch(() => undefined);
  }
}

export async function checkRedis(variable: string, url: string, timeoutMs = 8000): Promise<void> {
  const where = `Redis at ${address(variable, url, 6379)}`;
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
  });
  // The socket's own error comes as an event; connect() may reject with a vaguer "Connection is closed".
  let socketError: unknown;
  redis.on("error", (error) => (socketError ??= error));
  try {
    await withDeadline(
      redis.connect().then(() => redis.ping()),
      timeoutMs,
    );
  } catch (error) {
    throw new StartupError(`${variable}: ${where} ${failure(socketError ?? error, timeoutMs, url)}`);
  } finally {
    redis.disconnect();
    // disconnect() only half-closes (and arms a 2 s timer) when the server never answered.
    redis.stream?.destroy();
  }
}

function address(variable: string, url: string, defaultPort: number): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StartupError(`${variable}: not a valid URL`);
  }
  const host = parsed.hostname || parsed.searchParams.get("host") || "localhost";
  return `${host}:${parsed.port || defaultPort}`;
}

class Timeout extends Error {}

async function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout()), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
  }
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "unknown host",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
};

function failure(error: unknown, timeoutMs: number, url: string): string {
  if (error instanceof Timeout) return `does not answer (no reply within ${timeoutMs} ms)`;
  const { code, message = String(error) } = error as { code?: string; message?: string };
  if (code && NETWORK[code]) return `does not answer (${NETWORK[code]})`;
  if (/timeout|timed out/i.test(message)) return `does not answer (no reply within ${timeoutMs} ms)`;
  const detail = redact(message.split("\n")[0]!, url);
  // 28P01/28000: PostgreSQL's login failures; WRONGPASS/NOAUTH: Redis's.
  if (code === "28P01" || code === "28000" || /WRONGPASS|NOAUTH|invalid password/i.test(message)) {
    return `rejected the login (${detail})`;
  }
  return `failed (${detail})`;
}

function redact(text: string, url: string): string {
  let password = "";
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // Unparseable URLs were reported before any connection.
  }
  return password ? text.replaceAll(password, "***") : text;
}
