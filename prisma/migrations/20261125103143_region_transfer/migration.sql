-- CreateTable
CREATE TABLE "RegionTransfer" (
    "sourceRegionId" TEXT NOT NULL,
    "targetRegionId" TEXT NOT NULL,
    "bytesSent" BIGINT NOT NULL DEFAULT 0,
    "chunksSent" BIGINT NOT NULL DEFAULT 0,
    "copies" BIGINT NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RegionTransfer_pkey" PRIMARY KEY ("sourceRegionId","targetRegionId")
);
