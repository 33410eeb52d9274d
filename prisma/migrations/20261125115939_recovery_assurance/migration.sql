-- CreateEnum
CREATE TYPE "DrillMode" AS ENUM ('MOST_RECENT', 'RANDOM_POINT_IN_TIME');

-- CreateEnum
CREATE TYPE "DrillRunStatus" AS ENUM ('RUNNING', 'PASSED', 'FAILED');

-- AlterTable
ALTER TABLE "Vault" ADD COLUMN     "rpoTargetSeconds" INTEGER;

-- CreateTable
CREATE TABLE "RpoState" (
    "mirrorVaultId" UUID NOT NULL,
    "sourceInstanceId" UUID NOT NULL,
    "databaseName" TEXT NOT NULL,
    "breached" BOOLEAN NOT NULL,
    "changedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RpoState_pkey" PRIMARY KEY ("mirrorVaultId","sourceInstanceId","databaseName")
);

-- CreateTable
CREATE TABLE "RestoreDrill" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "mirrorVaultId" UUID NOT NULL,
    "sourceInstanceId" UUID NOT NULL,
    "sourceDatabaseName" TEXT NOT NULL,
    "targetInstanceId" UUID NOT NULL,
    "targetDatabaseName" TEXT NOT NULL,
    "mode" "DrillMode" NOT NULL DEFAULT 'MOST_RECENT',
    "intervalMinutes" INTEGER NOT NULL DEFAULT 1440,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "scratchCreatedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RestoreDrill_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DrillRun" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "drillId" UUID NOT NULL,
    "status" "DrillRunStatus" NOT NULL DEFAULT 'RUNNING',
    "restoreId" UUID,
    "pointInTime" TIMESTAMP(3),
    "rpoSeconds" DOUBLE PRECISION,
    "rtoSeconds" DOUBLE PRECISION,
    "message" TEXT,
    "activeDrill" UUID,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "DrillRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "RestoreDrill_accountId_createdAt_idx" ON "RestoreDrill"("accountId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "RestoreDrill_targetInstanceId_targetDatabaseName_key" ON "RestoreDrill"("targetInstanceId", "targetDatabaseName");

-- CreateIndex
CREATE UNIQUE INDEX "RestoreDrill_createdAt_id_key" ON "RestoreDrill"("createdAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "DrillRun_activeDrill_key" ON "DrillRun"("activeDrill");

-- CreateIndex
CREATE INDEX "DrillRun_drillId_startedAt_idx" ON "DrillRun"("drillId", "startedAt");

-- CreateIndex
CREATE INDEX "DrillRun_restoreId_idx" ON "DrillRun"("restoreId");

-- CreateIndex
CREATE UNIQUE INDEX "DrillRun_startedAt_id_key" ON "DrillRun"("startedAt", "id");

-- AddForeignKey
ALTER TABLE "RpoState" ADD CONSTRAINT "RpoState_mirrorVaultId_fkey" FOREIGN KEY ("mirrorVaultId") REFERENCES "Vault"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RpoState" ADD CONSTRAINT "RpoState_sourceInstanceId_fkey" FOREIGN KEY ("sourceInstanceId") REFERENCES "HanaInstance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RestoreDrill" ADD CONSTRAINT "RestoreDrill_mirrorVaultId_fkey" FOREIGN KEY ("mirrorVaultId") REFERENCES "Vault"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RestoreDrill" ADD CONSTRAINT "RestoreDrill_sourceInstanceId_fkey" FOREIGN KEY ("sourceInstanceId") REFERENCES "HanaInstance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RestoreDrill" ADD CONSTRAINT "RestoreDrill_targetInstanceId_fkey" FOREIGN KEY ("targetInstanceId") REFERENCES "HanaInstance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DrillRun" ADD CONSTRAINT "DrillRun_drillId_fkey" FOREIGN KEY ("drillId") REFERENCES "RestoreDrill"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DrillRun" ADD CONSTRAINT "DrillRun_restoreId_fkey" FOREIGN KEY ("restoreId") REFERENCES "Restore"("id") ON DELETE SET NULL ON UPDATE CASCADE;
