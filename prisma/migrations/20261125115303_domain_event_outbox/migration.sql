-- CreateEnum
CREATE TYPE "EventType" AS ENUM ('HISTORICAL_SYNC_COMPLETED', 'HISTORICAL_SYNC_FAILED', 'COPY_FAILED', 'RESTORE_COMPLETED', 'RESTORE_FAILED', 'RESTORE_CANCELED', 'RPO_BREACHED', 'RPO_RECOVERED', 'DRILL_PASSED', 'DRILL_FAILED');

-- CreateTable
CREATE TABLE "DomainEvent" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "type" "EventType" NOT NULL,
    "data" JSONB NOT NULL,
    "occurredAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dispatchedAt" TIMESTAMP(3),

    CONSTRAINT "DomainEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "DomainEvent_dispatchedAt_occurredAt_idx" ON "DomainEvent"("dispatchedAt", "occurredAt");

-- CreateIndex
CREATE INDEX "DomainEvent_accountId_occurredAt_idx" ON "DomainEvent"("accountId", "occurredAt");

-- AddForeignKey
ALTER TABLE "DomainEvent" ADD CONSTRAINT "DomainEvent_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
