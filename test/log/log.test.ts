// The log's own guarantees: errors keep type, message, stack and causes but no input value; lines carry the fields
// of the unit of work they belong to; usual secret names are redacted; a newline in a value stays inside its line.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { withoutQuotedValues } from "../../src/log/errors.ts";
import { log, serializeError, withLogFields } from "../../src/log/index.ts";

let lines: string[] = [];
const write = process.stdout.write.bind(process.stdout);
let level: typeof log.level;

beforeEach(() => {
  lines = [];
  level = log.level;
  log.level = "info";
  process.stdout.write = ((chunk: unknown) => {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    return true;
  }) as typeof process.stdout.write;
});
afterEach(() => {
  process.stdout.write = write;
  log.level = level;
});

const parsedLines = () => lines.map((line) => JSON.parse(line) as Record<string, any>);

describe("errors in the log", () => {
  it("keeps the type, message, stack frames and the whole cause chain", () => {
    const root = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    const error = new Error("could not stage chunk", { cause: new TypeError("fetch failed", { cause: root }) });
    const out = serializeError(error) as any;
    expect(out).toMatchObject({
      type: "Error",
      message: "could not stage chunk",
      stack: expect.stringMatching(/^at /),
    });
    expect(out.cause).toMatchObject({ type: "TypeError", message: "fetch failed" });
    expect(out.cause.cause).toMatchObject({ type: "Error", code: "ECONNREFUSED", stack: expect.any(String) });
  });

  it("follows GraphQL's originalError, and Prisma 7's driver error as the cause of a known request error", () => {
    const prisma = Object.assign(
      new Error(
        "\nInvalid `prisma.vault.create()` invocation in\n/src/domain/vaults.ts:12:3\n\n  9 const x = {\n→ 12 prisma.vault.create(\nUnique constraint failed on the fields: (`name`)",
      ),
      {
        name: "PrismaClientKnownRequestError",
        code: "P2002",
        meta: {
          modelName: "Vault",
          driverAdapterError: {
            cause: {
              kind: "UniqueConstraintViolation",
              originalCode: "23505",
              originalMessage: 'duplicate key value violates unique constraint "Vault_name_key"',
              constraint: { fields: ["name"] },
            },
          },
        },
      },
    );
    const wrapped = Object.assign(new Error("Unexpected error."), { name: "GraphQLError", originalError: prisma });
    const out = serializeError(wrapped) as any;
    expect(out.cause).toMatchObject({
      type: "PrismaClientKnownRequestError",
      code: "P2002",
      modelName: "Vault",
      message: "Unique constraint failed on the fields: (`name`)",
    });
    expect(out.cause.cause).toMatchObject({ kind: "UniqueConstraintViolation", originalCode: "23505" });
  });

  it("never carries an input value: Prisma's arguments, PostgreSQL's quoted values, an error's other properties", () => {
    const secret = "hunter2-Passw0rd";
    const validation = Object.assign(new Error(`Invalid invocation: { data: { password: "${secret}" } }`), {
      name: "PrismaClientValidationError",
    });
    const database = Object.assign(new Error(`invalid input syntax for type uuid: "${secret}"`), {
      name: "DatabaseError",
      code: "22P02",
      detail: `Key (name)=(${secret}) already exists.`,
      where: secret,
    });
    const text = JSON.stringify([serializeError(validation), serializeError(database), serializeError(secret)]);
    expect(text).not.toContain(secret);
    expect(serializeError(database)).toMatchObject({
      code: "22P02",
      message: 'invalid input syntax for type uuid: "[value]"',
    });
    expect(withoutQuotedValues('null value in column "name" of relation "Vault"')).toBe(
      'null value in column "name" of relation "Vault"',
    );
  });
});

describe("log lines", () => {
  it("carry the fields of the request or job they belong to, across awaits", async () => {
    await withLogFields({ requestId: "req-1" }, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      await withLogFields({ jobId: "job-1", region: "cn-hangzhou" }, async () => log.info("inner"));
      log.info("outer");
    });
    log.info("outside");
    expect(parsedLines().map(({ msg, requestId, jobId, region }) => ({ msg, requestId, jobId, region }))).toEqual([
      { msg: "inner", requestId: "req-1", jobId: "job-1", region: "cn-hangzhou" },
      { msg: "outer", requestId: "req-1", jobId: undefined, region: undefined },
      { msg: "outside", requestId: undefined, jobId: undefined, region: undefined },
    ]);
  });

  it("redact the usual secret names and keep a newline inside its own line", () => {
    const forged = `x\n${JSON.stringify({ level: "error", msg: "forged" })}\n`;
    log.info({ password: "p", input: { password: "q" }, headers: { authorization: "Bearer k" }, name: forged }, "m");
    expect(lines).toHaveLength(1);
    const [line] = parsedLines();
    expect(line).toMatchObject({ password: "[redacted]", input: "[redacted]", name: forged });
    expect(line.headers.authorization).toBe("[redacted]");
  });
});
