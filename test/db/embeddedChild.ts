// Run by test/db/embeddedPostgres.test.ts as a separate process that the test then kills:
// starts the embedded server on argv's data directory and port, writes a row, prints the URL.
import pg from "pg";
import { startEmbeddedPostgres } from "../../src/db/embeddedPostgres.ts";

const [dataDir, port, mode] = process.argv.slice(2);
const db = await startEmbeddedPostgres({ dataDir: dataDir!, port: Number(port) });
const client = new pg.Client(db.databaseUrl);
await client.connect();
await client.query("create table if not exists marks (note text)");
await client.query("insert into marks values ($1)", [`written by ${process.pid}`]);
await client.end();
process.on("SIGTERM", () => void db.stop().then(() => process.exit(0)));
process.stdout.write(`${JSON.stringify({ databaseUrl: db.databaseUrl })}\n`);
// Exits as a fatal error path would, without calling stop().
if (mode === "exit") process.exit(3);
