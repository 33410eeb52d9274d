import { InvalidInput } from "../domain/errors.ts";
import { Prisma } from "../generated/prisma/client.ts";

/** A hand-made cursor that decodes but names no row shape reaches Prisma as bad arguments: say so to the user. */
export function pageOf<T>(query: Promise<T>): Promise<T> {
  return query.catch((error) => {
    const badCursor =
      error instanceof Prisma.PrismaClientValidationError ||
      (error instanceof Prisma.PrismaClientKnownRequestError && ["P2023", "P2007"].includes(error.code));
    if (badCursor) throw InvalidInput.field(["after"], "invalid cursor: use a cursor from this connection's edges");
    throw error;
  });
}

type CursorQuery = { cursor?: object; skip?: number; take: number };

/**
 * Pothos's page query with its cursor turned into a keyset condition on the cursor's own values: `(time, id)`
 * after (or before) the cursor row, read straight off an index whatever the page's position. Prisma's own cursor
 * looks the cursor row up again inside an OR and makes PostgreSQL walk the index from the start. The cursors stay
 * what Pothos encodes (opaque, and the same as before); the cursor row itself need not exist any more.
 */
export function keysetPage<Q extends CursorQuery>(
  query: Q,
  time: string,
): Omit<Q, "cursor" | "skip"> & { after: object } {
  const { cursor, skip: _skip, ...rest } = query;
  // Pothos names the compound unique: { startedAt_id: { startedAt, id } }.
  const values = cursor ? (Object.values(cursor)[0] as Record<string, unknown> | undefined) : undefined;
  if (!values) return { ...rest, after: {} };
  const at = values[time];
  const id = values.id;
  const [strict, loose] = query.take < 0 ? ["lt", "lte"] : ["gt", "gte"];
  // The redundant `time >= at` bounds the index range; the OR settles ties on id.
  const after = {
    AND: [{ [time]: { [loose]: at } }, { OR: [{ [time]: { [strict]: at } }, { [time]: at, id: { [strict]: id } }] }],
  };
  return { ...rest, after };
}
