-- Fencing of restores: the highest epoch (fencing token) a recovery presented for a database. Every write of a
-- recovery carries its epoch and is refused once a higher one was seen, so a run that lost its lease (crashed, or
-- frozen and woken up) can never write beside the run that took over.
CREATE TABLE "SimFence" (
    "instanceId" UUID NOT NULL,
    "database" TEXT NOT NULL,
    "epoch" BIGINT NOT NULL,
    -- writes refused because a higher epoch had been seen (a stale run tried and was stopped)
    "refused" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "SimFence_pkey" PRIMARY KEY ("instanceId", "database")
);

-- Every fenced write that was let through, in commit order: the record that proves no two runs overlapped (the
-- epochs never go down).
CREATE TABLE "SimFencedWrite" (
    "seq" BIGSERIAL PRIMARY KEY,
    "instanceId" UUID NOT NULL,
    "database" TEXT NOT NULL,
    "epoch" BIGINT NOT NULL
);

CREATE INDEX "SimFencedWrite_instanceId_database_idx" ON "SimFencedWrite" ("instanceId", "database", "seq");
