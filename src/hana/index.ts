// The HANA connector seam. Everything outside src/hana/ asks `connectorFor` for a connector and talks to clusters
// only through the `HanaConnector` interface.
import type { Db } from "../db/types.ts";
import type { HanaConnector } from "./connector.ts";
import { HanaSimulator, type HanaSimulatorOptions } from "./simulator.ts";

export * from "./connector.ts";
export { DigestAccumulator, digestOfRows, EMPTY_DIGEST, rowHash } from "./digest.ts";
export { checkEndpoint, isPlausibleHost, sqlPort } from "./endpoint.ts";
export { BACKUP_FORMAT } from "./ndjson.ts";
export { HanaSimulator, type HanaSimulatorOptions, type RowWrite, type SimulatedWrites } from "./simulator.ts";

/**
 * "simulator": clusters simulated in PostgreSQL (the default). "sap-hana-client": a real connector would go here,
 * driving the cluster with `@sap/hana-client` (SYSTEMDB on port 3<NN>13, the plan's `recoverStatement` for restores,
 * backups through Backint); it does not exist yet, so asking for it fails loudly instead of pretending.
 */
export type HanaConnectorKind = "simulator" | "sap-hana-client";

export function connectorFor(kind: HanaConnectorKind, db: Db, options: HanaSimulatorOptions = {}): HanaConnector {
  switch (kind) {
    case "simulator":
      return new HanaSimulator(db, options);
    case "sap-hana-client":
      throw new Error("the @sap/hana-client connector is not implemented; use the simulator");
  }
}
