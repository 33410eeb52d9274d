import type { Services } from "../services.ts";

/** R8: queues the copy of a completed source backup to its vault's mirror, if the vault has one. */
export async function enqueueCopiesOf(_services: Services, _backupId: string): Promise<void> {
  // Filled in by the mirror-vault work.
}
