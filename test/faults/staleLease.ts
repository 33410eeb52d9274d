// Preloaded (`--import`) into the fault suite's restore workers: their restore runs never notice that their lease
// was lost (a progress write that matched no row passes silently, the heartbeat renews but never aborts), as if
// every lease check had passed just before the process froze. A frozen worker that wakes up then keeps writing
// the target, and only the fence (the HANA simulator's epoch check, src/hana/fence.ts) can stop it: the frozen
// rounds prove that it does. Cancels are still noticed. Test-only: the product's lease is untouched.
import { Canceled, type LeasePorts, RestoreLease } from "../../src/domain/restores/lease.ts";

type Internals = {
  ports: LeasePorts;
  restoreId: string;
  owner: string;
  heartbeat: NodeJS.Timeout | undefined;
  abort: AbortController;
  expiry(): Date;
  status(): Promise<string | undefined>;
};

if (process.env.FAULT_STALE_LEASE === "1") {
  const proto = RestoreLease.prototype;
  proto.write = async function (this: Internals, data: Parameters<RestoreLease["write"]>[0]) {
    await this.ports.db.restore.updateMany({ where: { id: this.restoreId, leaseOwner: this.owner }, data });
  };
  proto.startHeartbeat = function (this: Internals) {
    this.heartbeat = setInterval(
      async () => {
        await this.ports.db.restore
          .updateMany({
            where: { id: this.restoreId, leaseOwner: this.owner },
            data: { leaseExpiresAt: this.expiry() },
          })
          .catch(() => null);
        if ((await this.status().catch(() => null)) === "CANCELING") this.abort.abort(new Canceled("canceled"));
      },
      Math.max(250, Math.floor(this.ports.config.leaseMs / 3)),
    );
  };
}
