// Is this error the database being away (restarting, unreachable, refusing connections) rather than a bug? Such
// errors are retryable: the API answers them as UNAVAILABLE (HTTP 503), never as a 500 with a driver's message.

/** Prisma's codes for "could not reach / lost the server" and a pool that timed out waiting for a connection. */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
/** Driver adapter error kinds of the same. */
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
/** PostgreSQL: admin shutdown, crash shutdown, cannot connect now (starting up / shutting down), connection class. */
const SQLSTATES = /^(57P01|57P02|57P03|08\d\d\d|53300)$/;
const MESSAGES =
  /Connection terminated|ECONNREFUSED|ECONNRESET|Can't reach database server|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command|timeout exceeded when trying to connect|Client has encountered a connection error/i;

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 4) return false;
  const e = error as {
    code?: unknown;
    kind?: unknown;
    message?: unknown;
    cause?: unknown;
    meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown; code?: unknown } } };
  };
  if (typeof e.code === "string" && (PRISMA_CODES.has(e.code) || SQLSTATES.test(e.code))) return true;
  if (typeof e.kind === "string" && ADAPTER_KINDS.has(e.kind)) return true;
  const cause = e.meta?.driverAdapterError?.cause;
  if (cause) {
    if (typeof cause.kind === "string" && ADAPTER_KINDS.has(cause.kind)) return true;
    const code = cause.originalCode ?? cause.code;
    if (typeof code === "string" && SQLSTATES.test(code)) return true;
  }
  if (typeof e.message === "string" && MESSAGES.test(e.message)) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}
