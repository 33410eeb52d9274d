// How an error appears in a log line: its type, message, code, stack frames and its causes, and nothing that can
// carry an input value. Prisma's messages embed the call's arguments and PostgreSQL's quote the offending value, so
// those are cut to the reason; other properties an error carries (pg's `detail`, a request's body) are left out.

const DATABASE_ERROR = /^(Prisma\w*Error|DriverAdapterError|DatabaseError)$/;
const MAX_MESSAGE = 1000;
const MAX_DEPTH = 5;

type Serialized = Record<string, unknown>;

/** Stack frames only: the first lines of a stack repeat the message. */
function frames(stack: unknown): string | undefined {
  if (typeof stack !== "string") return undefined;
  const lines = stack.split("\n").filter((line) => /^\s+at /.test(line));
  return lines.length ? lines.map((line) => line.trim()).join("\n") : undefined;
}

/** A database message without the values it quotes (`invalid input syntax for type uuid: "…"`). */
export function withoutQuotedValues(message: string): string {
  return message.replace(/: "(?:[^"\\]|\\.)*"/g, ': "[value]"').replace(/=\(.*?\)(?=[\s.,;]|$)/g, "=([value])");
}

function messageOf(error: Error): string {
  if (error.name === "PrismaClientValidationError") return "invalid query arguments";
  let message = error.message;
  if (DATABASE_ERROR.test(error.name)) {
    // Prisma: "\nInvalid `prisma.x.y()` invocation in ... → line\n\n<reason>": the reason is the last line.
    const lines = message.split("\n").filter((line) => line.trim());
    message = withoutQuotedValues(lines.at(-1) ?? "");
  }
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
}

/** A short code (SQLSTATE, Prisma's P2002, Node's ENOENT) or a schema name (constraint, table), never a value. */
function pickIdentifiers(from: Record<string, unknown>, keys: string[]): Serialized {
  const out: Serialized = {};
  for (const key of keys) {
    const value = from[key];
    if (typeof value === "number" || (typeof value === "string" && value.length <= 200)) out[key] = value;
  }
  return out;
}

/** The cause a database error hides in Prisma's `meta.driverAdapterError` (Prisma 7 keeps no `cause`). */
function driverCause(error: Error): unknown {
  const meta = (error as { meta?: { driverAdapterError?: { cause?: Record<string, unknown> } } }).meta;
  const cause = meta?.driverAdapterError?.cause;
  if (!cause || typeof cause !== "object") return undefined;
  const out = pickIdentifiers(cause, ["kind", "originalCode", "code"]);
  if (typeof cause.originalMessage === "string") out.message = withoutQuotedValues(cause.originalMessage);
  const constraint = cause.constraint as { fields?: unknown; index?: unknown } | undefined;
  if (constraint) out.constraint = JSON.stringify(constraint).slice(0, 200);
  return out;
}

export function serializeError(error: unknown, depth = 0): Serialized {
  if (!(error instanceof Error)) return { type: typeof error };
  const plain = error as unknown as Record<string, unknown>;
  const out: Serialized = {
    type: error.name,
    message: messageOf(error),
    ...pickIdentifiers(plain, ["code", "errno", "syscall", "constraint", "table", "column", "routine"]),
  };
  const meta = plain.meta as Record<string, unknown> | undefined;
  if (meta && typeof meta === "object") Object.assign(out, pickIdentifiers(meta, ["modelName"]));
  const stack = frames(error.stack);
  if (stack) out.stack = stack;
  if (depth >= MAX_DEPTH) return out;
  // GraphQL wraps the resolver's error in `originalError`; Prisma 7 puts the database's in meta.
  const cause = error.cause ?? plain.originalError;
  if (cause !== undefined && cause !== null) out.cause = serializeError(cause, depth + 1);
  else if (DATABASE_ERROR.test(error.name)) {
    const fromDriver = driverCause(error);
    if (fromDriver) out.cause = fromDriver;
  }
  if (error instanceof AggregateError) {
    out.errors = error.errors.slice(0, 5).map((inner) => serializeError(inner, depth + 1));
  }
  return out;
}
