-- The simulated clusters: one row per database of a registered instance, its rows, and its commit log.

CREATE TABLE "SimDatabase" (
    "instanceId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "running" BOOLEAN NOT NULL DEFAULT true,
    "logPosition" BIGINT NOT NULL DEFAULT 0,
    "lastCommitTime" TIMESTAMPTZ(3),
    -- sum of SHA-256(key, value) over all rows, mod 2^256: equal content, equal digest (see digest.ts)
    "digest" TEXT NOT NULL,
    -- where the next LOG backup starts (null until the first COMPLETE backup)
    "logBackupFrom" BIGINT,
    "lastCompletePosition" BIGINT,
    "lastDataPosition" BIGINT,
    CONSTRAINT "SimDatabase_pkey" PRIMARY KEY ("instanceId", "name")
);

CREATE TABLE "SimRow" (
    "instanceId" UUID NOT NULL,
    "database" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    -- log position of the commit that last wrote the row (what delta backups select on)
    "position" BIGINT NOT NULL,
    CONSTRAINT "SimRow_pkey" PRIMARY KEY ("instanceId", "database", "key")
);

CREATE INDEX "SimRow_instanceId_database_position_idx" ON "SimRow" ("instanceId", "database", "position");

CREATE TABLE "SimCommit" (
    "instanceId" UUID NOT NULL,
    "database" TEXT NOT NULL,
    "position" BIGINT NOT NULL,
    "commitTime" TIMESTAMPTZ(3) NOT NULL,
    "digest" TEXT NOT NULL,
    -- the rows the transaction wrote, [{ "key", "value" }, …] (what LOG backups carry)
    "rows" JSONB NOT NULL,
    CONSTRAINT "SimCommit_pkey" PRIMARY KEY ("instanceId", "database", "position")
);
