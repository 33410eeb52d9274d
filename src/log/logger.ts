// The process's logger: one JSON line per event on stdout (pino), each with the fields of the request or job it
// belongs to (src/log/context.ts). JSON encoding escapes newlines, so no value can start a line of its own. Inputs,
// keys and secrets are never passed to it; the redaction below is a second guard for the usual names.
import { pino } from "pino";
import { currentLogFields } from "./context.ts";
import { serializeError } from "./errors.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const SECRET_NAMES = [
  "password",
  "apiKey",
  "authorization",
  "secret",
  "secretKey",
  "secretAccessKey",
  "variables",
  "input",
];

function initialLevel(): LogLevel {
  // The composition root sets the configured level; this is the level of whatever logs before it (and of tests).
  const level = process.env.LOG_LEVEL as LogLevel | undefined;
  return level && LOG_LEVELS.includes(level) ? level : "info";
}

export const log = pino(
  {
    level: initialLevel(),
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => ({ ...currentLogFields() }),
    serializers: { err: serializeError },
    redact: {
      paths: SECRET_NAMES.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]),
      censor: "[redacted]",
    },
  },
  // process.stdout (synchronous for files and pipes on Linux), so a test in the same process can read the lines.
  process.stdout,
);

export type Logger = typeof log;
