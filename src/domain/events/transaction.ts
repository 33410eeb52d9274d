// The options of a transaction that writes a state change with its outbox event: on a loaded machine Prisma's
// defaults (2 s to get a connection, 5 s in all) would fail the state change itself.
export const OUTBOX_TRANSACTION = { maxWait: 10_000, timeout: 60_000 } as const;
