// The ports the domain is given. Each domain function and job processor names the few it uses
// (`Pick<Ports, "db" | "events">`), so its signature says what it may touch. The composition root
// (src/compose.ts) builds the backends; the domain never constructs one.
import type { Db } from "../db/types.ts";
import type { EventBus } from "../events/eventBus.ts";
import type { HanaConnector, HanaDatabaseState } from "../hana/connector.ts";
import type { CopySlots } from "../queue/copySlotTypes.ts";
import type { RegionQueues } from "../queue/queues.ts";
import type { Bandwidth } from "../storage/bandwidth.ts";
import type { RegionBlobStore } from "../storage/blobStore.ts";
import type { CopyBandwidth } from "../transferConfig.ts";
import type { WebhookConfig } from "../webhookConfig.ts";
import type { RegionCatalogue } from "./regions.ts";

/** Time as the domain sees it; tests may pass a fixed clock. */
export type Clock = { now(): Date };
export const systemClock: Clock = { now: () => new Date() };

/** The blob store of each region (a folder or an S3 bucket per region). */
export type BlobStores = { region(regionId: string): RegionBlobStore };

/** What `simulateHanaWrites` drives: present only when the connector is the simulator. */
export type WriteSimulator = {
  simulateWrites(
    instanceId: string,
    databaseName: string,
    writes: { transactions: number; rowsPerTransaction?: number; valueBytes?: number },
  ): Promise<HanaDatabaseState>;
  /** What the simulated cluster's fence recorded for a database: restore writes accepted, refused, overlapping. */
  fenceRecord(instanceId: string, databaseName: string): Promise<{ writes: number; refused: number; overlaps: number }>;
};

/** The settings the domain and the jobs read (the rest of the configuration stays at the composition root). */
export type DomainConfig = {
  historicalSyncDelayMs: number;
  leaseMs: number;
  /** Where restores stage the chunks they fetched (a folder per restore, removed when the run ends). */
  restoreStagingDir: string;
  secretKey: Buffer;
  storageGcIntervalMs: number;
  storageGcMinAgeMs: number;
  copyConcurrencyPerRegionPair: number;
  copyBandwidth: CopyBandwidth;
  /** One simulateHanaWrites call writes at most this many rows and bytes (the product of its arguments). */
  simulateWritesMaxRows: number;
  simulateWritesMaxBytes: number;
  webhooks: WebhookConfig;
  /** The length of a minute of a restore drill's intervalMinutes (60000; tests shorten it). */
  drillMinuteMs: number;
};

export type Ports = {
  db: Db;
  events: EventBus;
  queues: RegionQueues;
  storage: BlobStores;
  hana: HanaConnector;
  simulator: WriteSimulator | null;
  clock: Clock;
  regions: RegionCatalogue;
  config: DomainConfig;
  /** Cross-region copies: slots capping them per region pair (all processes), bandwidth buckets (this process). */
  copySlots: CopySlots;
  bandwidth: Bandwidth;
};
