-- AlterTable
ALTER TABLE "Replication" ADD COLUMN     "copyMessage" TEXT;

-- AlterTable
ALTER TABLE "Restore" ADD COLUMN     "fenceEpoch" BIGSERIAL NOT NULL;

-- CreateTable
CREATE TABLE "WorkLease" (
    "key" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "WorkLease_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "PendingCleanup" (
    "id" UUID NOT NULL,
    "regionId" TEXT NOT NULL,
    "backupIds" TEXT[],
    "hanaInstanceId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PendingCleanup_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "PendingCleanup_regionId_idx" ON "PendingCleanup"("regionId");
