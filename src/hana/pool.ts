// The simulator's connection to its own PostgreSQL database (never the product's): a `pg` pool whose bigint
// columns come back as `bigint` (log positions exceed 2^53 in principle), plus a transaction helper.
import pg from "pg";

/** The simulator's database: a pool of connections to it. */
export type SimDb = pg.Pool;
/** A connection inside a transaction. */
export type Tx = pg.PoolClient;
/** Anything statements can be sent to: the pool (autocommit) or a transaction's connection. */
export type Queryable = Pick<pg.PoolClient, "query">;

const INT8_OID = 20;

/** Per pool, not `pg.types.setTypeParser`: other `pg` users in the process keep their own parsing. */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? (value: string) => BigInt(value)
      : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

export type SimPoolOptions = {
  max?: number;
  /** An idle connection broke (the composition root logs it); the next query gets a fresh one. */
  onIdleError?: (error: Error) => void;
};

/** A pool for the simulator's database; it waits at most 10 s for a connection and never keeps the process alive. */
export function createSimPool(databaseUrl: string, options: SimPoolOptions = {}): SimDb {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    types,
  });
  // An idle connection that breaks must not crash the process; the next query gets a fresh one.
  pool.on("error", (error) => options.onIdleError?.(error));
  return pool;
}

/** Runs one statement and returns its rows. Parameters: strings, numbers, bigints, Buffers, Dates, nulls. */
export async function query<R extends pg.QueryResultRow>(
  client: Queryable,
  sql: string,
  params: readonly unknown[] = [],
): Promise<R[]> {
  return (await client.query<R>(sql, params as unknown[])).rows;
}

/** Runs one statement and returns how many rows it changed. */
export async function execute(client: Queryable, sql: string, params: readonly unknown[] = []): Promise<number> {
  return (await client.query(sql, params as unknown[])).rowCount ?? 0;
}

export type Isolation = "READ COMMITTED" | "REPEATABLE READ";

/** Runs `work` in a transaction on one connection: committed when it returns, rolled back when it throws. */
export async function transaction<T>(
  db: SimDb,
  work: (tx: Tx) => Promise<T>,
  isolation: Isolation = "READ COMMITTED",
): Promise<T> {
  const tx = await db.connect();
  let broken: Error | undefined;
  try {
    await tx.query(`BEGIN ISOLATION LEVEL ${isolation}`);
    const result = await work(tx);
    await tx.query("COMMIT");
    return result;
  } catch (error) {
    // A connection that cannot even roll back is not handed out again.
    await tx.query("ROLLBACK").catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    tx.release(broken);
  }
}
