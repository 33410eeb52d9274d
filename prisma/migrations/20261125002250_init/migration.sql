-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "VaultKind" AS ENUM ('SOURCE', 'MIRROR');

-- CreateEnum
CREATE TYPE "VaultStatus" AS ENUM ('INITIALIZING', 'CREATED', 'ERROR', 'DELETING');

-- CreateEnum
CREATE TYPE "SyncStatus" AS ENUM ('SCHEDULED', 'RUNNING', 'COMPLETED', 'FAILED');

-- CreateEnum
CREATE TYPE "HanaInstanceStatus" AS ENUM ('INITIALIZING', 'INITIALIZED', 'INVALID_HANA_NODE', 'INITIALIZE_FAILED');

-- CreateEnum
CREATE TYPE "BackupType" AS ENUM ('COMPLETE', 'DIFFERENTIAL', 'INCREMENTAL', 'LOG');

-- CreateEnum
CREATE TYPE "BackupStatus" AS ENUM ('RUNNING', 'COMPLETE', 'FAILED');

-- CreateEnum
CREATE TYPE "RestoreMode" AS ENUM ('RECOVERY_TO_MOST_RECENT', 'RECOVERY_TO_POINT_IN_TIME', 'RECOVERY_TO_SPECIFIC_BACKUP', 'RECOVERY_TO_LOG_POSITION');

-- CreateEnum
CREATE TYPE "RestoreStatus" AS ENUM ('CREATED', 'QUEUED', 'RUNNING', 'COMPLETE', 'PARTIAL_COMPLETE', 'FAILED', 'CANCELING', 'CANCELED', 'EXPIRED');

-- CreateEnum
CREATE TYPE "ValidationStatus" AS ENUM ('PENDING', 'SUCCESSFUL', 'FAILED');

-- CreateTable
CREATE TABLE "Account" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "keyHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BackupClient" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "regionId" TEXT NOT NULL,
    "ecsInstanceId" TEXT NOT NULL,
    "vaultId" UUID NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BackupClient_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Vault" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "kind" "VaultKind" NOT NULL,
    "status" "VaultStatus" NOT NULL DEFAULT 'CREATED',
    "regionId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sourceVaultId" UUID,

    CONSTRAINT "Vault_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Replication" (
    "mirrorVaultId" UUID NOT NULL,
    "sourceRegionId" TEXT NOT NULL,
    "targetRegionId" TEXT NOT NULL,
    "historicalSyncStatus" "SyncStatus" NOT NULL DEFAULT 'SCHEDULED',
    "historicalSyncScheduledAt" TIMESTAMP(3) NOT NULL,
    "historicalSyncStartedAt" TIMESTAMP(3),
    "historicalSyncCompletedAt" TIMESTAMP(3),
    "historicalBackupTotal" INTEGER NOT NULL DEFAULT 0,
    "historicalBackupDone" INTEGER NOT NULL DEFAULT 0,
    "historicalMessage" TEXT,
    "latestReplicationTime" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Replication_pkey" PRIMARY KEY ("mirrorVaultId")
);

-- CreateTable
CREATE TABLE "HanaInstance" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "regionId" TEXT NOT NULL,
    "vaultId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "sid" TEXT NOT NULL,
    "instanceNumber" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "ecsInstanceIds" TEXT[],
    "userName" TEXT NOT NULL,
    "passwordCipher" TEXT NOT NULL,
    "useSsl" BOOLEAN NOT NULL DEFAULT false,
    "validateCertificate" BOOLEAN NOT NULL DEFAULT false,
    "status" "HanaInstanceStatus" NOT NULL DEFAULT 'INITIALIZING',
    "statusMessage" TEXT,
    "logBackupIntervalSeconds" INTEGER NOT NULL DEFAULT 900,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "HanaInstance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Backup" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "vaultId" UUID NOT NULL,
    "instanceId" UUID NOT NULL,
    "databaseName" TEXT NOT NULL,
    "type" "BackupType" NOT NULL,
    "status" "BackupStatus" NOT NULL DEFAULT 'RUNNING',
    "hanaBackupId" BIGINT NOT NULL,
    "prefix" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMP(3),
    "sizeBytes" BIGINT NOT NULL DEFAULT 0,
    "logPositionStart" BIGINT NOT NULL DEFAULT 0,
    "logPositionEnd" BIGINT NOT NULL DEFAULT 0,
    "coversUntil" TIMESTAMP(3),
    "basePosition" BIGINT,
    "message" TEXT,

    CONSTRAINT "Backup_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BackupCopy" (
    "backupId" UUID NOT NULL,
    "mirrorVaultId" UUID NOT NULL,
    "sizeBytes" BIGINT NOT NULL,
    "copiedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BackupCopy_pkey" PRIMARY KEY ("backupId","mirrorVaultId")
);

-- CreateTable
CREATE TABLE "CatalogEntry" (
    "backupId" UUID NOT NULL,
    "logPosition" BIGINT NOT NULL,
    "commitTime" TIMESTAMP(3),
    "digest" TEXT NOT NULL,

    CONSTRAINT "CatalogEntry_pkey" PRIMARY KEY ("backupId","logPosition")
);

-- CreateTable
CREATE TABLE "Restore" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "mirrorVaultId" UUID NOT NULL,
    "sourceInstanceId" UUID NOT NULL,
    "sourceDatabaseName" TEXT NOT NULL,
    "targetInstanceId" UUID NOT NULL,
    "targetDatabaseName" TEXT NOT NULL,
    "mode" "RestoreMode" NOT NULL,
    "pointInTime" TIMESTAMP(3),
    "logPosition" BIGINT,
    "backupId" UUID,
    "useDelta" BOOLEAN NOT NULL DEFAULT true,
    "checkAccess" BOOLEAN NOT NULL DEFAULT true,
    "overwrite" BOOLEAN NOT NULL DEFAULT false,
    "idempotencyKey" TEXT,
    "inputHash" TEXT,
    "plan" JSONB NOT NULL,
    "status" "RestoreStatus" NOT NULL DEFAULT 'QUEUED',
    "phase" TEXT,
    "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "reachedTime" TIMESTAMP(3),
    "reachedLogPosition" BIGINT,
    "validationStatus" "ValidationStatus" NOT NULL DEFAULT 'PENDING',
    "expectedDigest" TEXT,
    "actualDigest" TEXT,
    "message" TEXT,
    "activeTarget" TEXT,
    "leaseOwner" TEXT,
    "leaseExpiresAt" TIMESTAMP(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "Restore_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SimDatabase" (
    "instanceId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "running" BOOLEAN NOT NULL DEFAULT true,
    "logPosition" BIGINT NOT NULL DEFAULT 0,
    "lastCommitTime" TIMESTAMP(3),
    "digest" TEXT NOT NULL,
    "logBackupFrom" BIGINT,
    "lastCompletePosition" BIGINT,
    "lastDataPosition" BIGINT,

    CONSTRAINT "SimDatabase_pkey" PRIMARY KEY ("instanceId","name")
);

-- CreateTable
CREATE TABLE "SimRow" (
    "instanceId" UUID NOT NULL,
    "database" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "position" BIGINT NOT NULL,

    CONSTRAINT "SimRow_pkey" PRIMARY KEY ("instanceId","database","key")
);

-- CreateTable
CREATE TABLE "SimCommit" (
    "instanceId" UUID NOT NULL,
    "database" TEXT NOT NULL,
    "position" BIGINT NOT NULL,
    "commitTime" TIMESTAMP(3) NOT NULL,
    "digest" TEXT NOT NULL,
    "rows" JSONB NOT NULL,

    CONSTRAINT "SimCommit_pkey" PRIMARY KEY ("instanceId","database","position")
);

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_keyHash_key" ON "ApiKey"("keyHash");

-- CreateIndex
CREATE UNIQUE INDEX "BackupClient_vaultId_key" ON "BackupClient"("vaultId");

-- CreateIndex
CREATE UNIQUE INDEX "BackupClient_accountId_regionId_ecsInstanceId_key" ON "BackupClient"("accountId", "regionId", "ecsInstanceId");

-- CreateIndex
CREATE UNIQUE INDEX "Vault_sourceVaultId_key" ON "Vault"("sourceVaultId");

-- CreateIndex
CREATE INDEX "Vault_accountId_createdAt_idx" ON "Vault"("accountId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Vault_createdAt_id_key" ON "Vault"("createdAt", "id");

-- CreateIndex
CREATE INDEX "HanaInstance_accountId_createdAt_idx" ON "HanaInstance"("accountId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "HanaInstance_accountId_regionId_sid_key" ON "HanaInstance"("accountId", "regionId", "sid");

-- CreateIndex
CREATE UNIQUE INDEX "HanaInstance_createdAt_id_key" ON "HanaInstance"("createdAt", "id");

-- CreateIndex
CREATE INDEX "Backup_vaultId_startedAt_idx" ON "Backup"("vaultId", "startedAt");

-- CreateIndex
CREATE INDEX "Backup_instanceId_databaseName_status_type_idx" ON "Backup"("instanceId", "databaseName", "status", "type");

-- CreateIndex
CREATE UNIQUE INDEX "Backup_startedAt_id_key" ON "Backup"("startedAt", "id");

-- CreateIndex
CREATE INDEX "BackupCopy_mirrorVaultId_copiedAt_idx" ON "BackupCopy"("mirrorVaultId", "copiedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Restore_activeTarget_key" ON "Restore"("activeTarget");

-- CreateIndex
CREATE INDEX "Restore_accountId_createdAt_idx" ON "Restore"("accountId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Restore_accountId_idempotencyKey_key" ON "Restore"("accountId", "idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "Restore_createdAt_id_key" ON "Restore"("createdAt", "id");

-- CreateIndex
CREATE INDEX "SimRow_instanceId_database_position_idx" ON "SimRow"("instanceId", "database", "position");

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BackupClient" ADD CONSTRAINT "BackupClient_vaultId_fkey" FOREIGN KEY ("vaultId") REFERENCES "Vault"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Vault" ADD CONSTRAINT "Vault_sourceVaultId_fkey" FOREIGN KEY ("sourceVaultId") REFERENCES "Vault"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Replication" ADD CONSTRAINT "Replication_mirrorVaultId_fkey" FOREIGN KEY ("mirrorVaultId") REFERENCES "Vault"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HanaInstance" ADD CONSTRAINT "HanaInstance_vaultId_fkey" FOREIGN KEY ("vaultId") REFERENCES "Vault"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Backup" ADD CONSTRAINT "Backup_vaultId_fkey" FOREIGN KEY ("vaultId") REFERENCES "Vault"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Backup" ADD CONSTRAINT "Backup_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "HanaInstance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BackupCopy" ADD CONSTRAINT "BackupCopy_backupId_fkey" FOREIGN KEY ("backupId") REFERENCES "Backup"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BackupCopy" ADD CONSTRAINT "BackupCopy_mirrorVaultId_fkey" FOREIGN KEY ("mirrorVaultId") REFERENCES "Vault"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CatalogEntry" ADD CONSTRAINT "CatalogEntry_backupId_fkey" FOREIGN KEY ("backupId") REFERENCES "Backup"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Restore" ADD CONSTRAINT "Restore_mirrorVaultId_fkey" FOREIGN KEY ("mirrorVaultId") REFERENCES "Vault"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Restore" ADD CONSTRAINT "Restore_sourceInstanceId_fkey" FOREIGN KEY ("sourceInstanceId") REFERENCES "HanaInstance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Restore" ADD CONSTRAINT "Restore_targetInstanceId_fkey" FOREIGN KEY ("targetInstanceId") REFERENCES "HanaInstance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Restore" ADD CONSTRAINT "Restore_backupId_fkey" FOREIGN KEY ("backupId") REFERENCES "Backup"("id") ON DELETE SET NULL ON UPDATE CASCADE;
