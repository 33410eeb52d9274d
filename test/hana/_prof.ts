import { createDb } from "../../src/db/client.ts";
import { rowHash } from "../../src/hana/digest.ts";
import { HanaSimulator } from "../../src/hana/simulator.ts";
import { freshDatabase } from "../support/database.ts";

const db = createDb(await freshDatabase("hana_prof"));
const h = new HanaSimulator(db);
const id = crypto.randomUUID();
await h.connect({
  instanceId: id,
  sid: "HDB",
  instanceNumber: "00",
  host: "h",
  userName: "S",
  password: "p",
  useSsl: false,
  validateCertificate: false,
});
let t = performance.now();
for (let i = 0; i < 100000; i++) rowHash("k" + i, "x".repeat(64));
console.log("hash 100k", performance.now() - t);
const orig = db.$executeRaw.bind(db);
t = performance.now();
await h.simulateWrites(id, "HDB", { transactions: 10000 });
console.log("writes", performance.now() - t);
t = performance.now();
await h.simulateWrites(id, "HDB", { transactions: 10000 });
console.log("writes2", performance.now() - t);
await db.$disconnect();
