import type { PrismaClient } from "../generated/prisma/client.ts";

/** The product database as the domain sees it (built by createDb in client.ts, at the composition root). */
export type Db = PrismaClient;
