// The HANA connector seam. Everything outside src/hana/ asks `connectorFor` for a connector and talks to clusters
// only through the `HanaConnector` interface (plus the simulator's extras, for `simulateHanaWrites`).
import type { HanaConnector } from "./connector.ts";
import { openSimulatorDatabase } from "./migrate.ts";
import { HanaSimulator } from "./simulator.ts";

export * from "./connector.ts";
export { DigestAccumulator, digestOfRows, EMPTY_DIGEST, rowHash } from "./digest.ts";
export { checkEndpoint, isPlausibleHost, sqlPort } from "./endpoint.ts";
export { BACKUP_FORMAT } from "./ndjson.ts";
export type { HanaSimulator, HanaSimulatorOptions, RowWrite, SimulatedWrites } from "./simulator.ts";

/**
 * "simulator": clusters simulated in PostgreSQL (the default). "sap-hana-client": a real connector would go here,
 * driving the cluster with `@sap/hana-client` (SYSTEMDB on port 3<NN>13, the plan's `recoverStatement` for restores,
 * backups through Backint); it does not exist yet, so asking for it fails loudly instead of pretending.
 */
export type HanaConnectorKind = "simulator" | "sap-hana-client";

export type HanaConnection = {
  connector: HanaConnector;
  /** The same object as `connector` when it is the simulator (what `simulateHanaWrites` drives), else null. */
  simulator: HanaSimulator | null;
  /** Ends the connector's connections. */
  close(): Promise<void>;
};

/**
 * Builds the connector of `kind`. For the simulator, `databaseUrl` is its own database (never the product's; see
 * `simulatorDatabaseUrl` for the default): created when missing, then brought up to date with its migrations.
 */
export async function connectorFor(options: {
  kind: HanaConnectorKind;
  databaseUrl: string;
  /** An idle connection of the simulator's pool broke (harmless: the next query reconnects). */
  onIdleError?: (error: Error) => void;
}): Promise<HanaConnection> {
  switch (options.kind) {
    case "simulator": {
      const db = await openSimulatorDatabase(options.databaseUrl, { onIdleError: options.onIdleError });
      const simulator = new HanaSimulator(db);
      return { connector: simulator, simulator, close: () => db.end() };
    }
    case "sap-hana-client":
      throw new Error("the @sap/hana-client connector is not implemented; use the simulator");
  }
}

/**
 * The simulator's default database: the product database's name + "_hana_sim", on the same server with the same
 * credentials (PostgreSQL limits names to 63 bytes).
 */
export function simulatorDatabaseUrl(productDatabaseUrl: string): string {
  const url = new URL(productDatabaseUrl);
  const product = decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username) || "postgres";
  const name = `${product}_hana_sim`;
  if (Buffer.byteLength(name) > 63) throw new Error(`simulator database name ${name} is longer than 63 bytes`);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}
