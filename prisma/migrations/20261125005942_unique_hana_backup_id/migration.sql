-- CreateIndex
CREATE UNIQUE INDEX "Backup_instanceId_hanaBackupId_key" ON "Backup"("instanceId", "hanaBackupId");
