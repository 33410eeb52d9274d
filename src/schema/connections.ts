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
