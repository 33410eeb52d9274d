// A HANA connector that discards what it recovers, for the restore row that measures the gateway's own path (plan,
// job, FETCHING: every chunk read from the mirror's store, verified and staged; then the staged streams handed to
// the connector) without the simulator's SQL. It reads every byte of every stream: the header line of each (through
// the gateway's parser, openBackup), the LOG backups' commits (to know the reached position), and the data backups'
// rows, which it neither parses nor keeps. It remembers the digest the streams say the database has at the reached
// position, and computeDigest answers it for that database, so the gateway's validation runs as usual.
import type { HanaConnector, RecoverResult } from "../../src/hana/connector.ts";
import { openBackup } from "../../src/hana/ndjson.ts";

const DATA = ["COMPLETE", "DIFFERENTIAL", "INCREMENTAL"] as const;

/** Makes `hana` discard what it recovers until the returned function puts its own methods back. */
export function discardRecoveredRows(hana: HanaConnector): () => void {
  const { recover, computeDigest } = hana;
  const digests = new Map<string, string>();
  hana.recover = async (instanceId, request, chain, options) => {
    const until = request.target.untilPosition;
    const reached: RecoverResult = { reachedPosition: 0n, reachedTime: null };
    let digest = "";
    const streams = [
      ...[chain.data, ...chain.deltas].map((stream) => ({ stream, types: DATA })),
      ...chain.logs.map((stream) => ({ stream, types: ["LOG"] as const })),
    ];
    for (const { stream, types } of streams) {
      options?.signal?.throwIfAborted();
      const opened = await openBackup(stream, types);
      try {
        if (opened.header.kind === "DATA") {
          reached.reachedPosition = BigInt(opened.header.logPositionEnd);
          reached.reachedTime = opened.header.commitTime ? new Date(opened.header.commitTime) : null;
          digest = opened.header.digest;
          // The rows: every byte read, none kept (not parsed either: the sink has no use for them).
          for await (const _ of stream) {
            // discarded
          }
          continue;
        }
        for await (const commit of opened.entries as AsyncIterable<{
          position: string;
          commitTime: string;
          digest: string;
        }>) {
          const position = BigInt(commit.position);
          if (position <= reached.reachedPosition) continue;
          if (until !== undefined && position > until) break;
          reached.reachedPosition = position;
          reached.reachedTime = new Date(commit.commitTime);
          digest = commit.digest;
        }
      } finally {
        await opened.close();
      }
    }
    digests.set(`${instanceId}/${request.databaseName}`, digest);
    return reached;
  };
  hana.computeDigest = async (instanceId, databaseName) =>
    digests.get(`${instanceId}/${databaseName}`) ?? computeDigest.call(hana, instanceId, databaseName);
  return () => {
    hana.recover = recover;
    hana.computeDigest = computeDigest;
  };
}
