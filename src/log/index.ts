export { addLogFields, currentLogFields, type LogFields, withLogFields } from "./context.ts";
export { serializeError } from "./errors.ts";
export { LOG_LEVELS, type LogLevel, log } from "./logger.ts";
