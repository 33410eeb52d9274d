// What every log line of a unit of work carries: the request that caused it (and the account behind it), or the job
// it runs in. Kept in AsyncLocalStorage, so code deep inside (domain, storage) logs with it without passing it on.
import { AsyncLocalStorage } from "node:async_hooks";

export type LogFields = {
  /** The request's id (`x-request-id`); a job carries the id of the request that queued it. */
  requestId?: string;
  accountId?: string;
  /** The GraphQL operation's name, from the parsed document. */
  operation?: string;
  jobId?: string;
  job?: string;
  region?: string;
  queue?: string;
  restoreId?: string;
  backupId?: string;
  mirrorVaultId?: string;
  instanceId?: string;
  component?: string;
};

const storage = new AsyncLocalStorage<LogFields>();

/** Runs `fn` with `fields` added to the current fields (a copy: the caller's fields stay as they were). */
export function withLogFields<T>(fields: LogFields, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}

/** Adds fields to the unit of work under way (e.g. the account, once the key is checked); a no-op outside one. */
export function addLogFields(fields: LogFields): void {
  const store = storage.getStore();
  if (store) Object.assign(store, fields);
}

export function currentLogFields(): Readonly<LogFields> {
  return storage.getStore() ?? {};
}
