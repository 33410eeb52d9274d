// What makes this test process's names its own: the pid alone repeats over time and across machines (containers)
// that share one PostgreSQL or Redis server, so a random part comes with it.
import { randomBytes } from "node:crypto";

/** Short and lower-case: it goes into database names (63 characters at most), queue prefixes and folders. */
export const RUN_ID = `${process.pid.toString(36)}${randomBytes(3).toString("hex")}`;
