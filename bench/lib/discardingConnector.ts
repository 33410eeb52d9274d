// A HANA connector whose recover reads every stream of the chain through the gateway's own parser (openBackup:
// header, every entry, the trailer's count) and discards the rows, for the restore row that measures the gateway's
// path without the simulator's SQL. It remembers the digest the streams say the database has at the reached
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
          for await (const _row of opened.entries) {
            // discarded
          }
          reached.reachedPosition = BigInt(opened.header.logPositionEnd);
          reached.reachedTime = opened.header.commitTime ? new Date(opened.header.commitTime) : null;
          digest = opened.header.digest;
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
