-- DropForeignKey
ALTER TABLE "Restore" DROP CONSTRAINT "Restore_mirrorVaultId_fkey";

-- DropForeignKey
ALTER TABLE "Restore" DROP CONSTRAINT "Restore_sourceInstanceId_fkey";

-- DropForeignKey
ALTER TABLE "Restore" DROP CONSTRAINT "Restore_targetInstanceId_fkey";

-- AddForeignKey
ALTER TABLE "Restore" ADD CONSTRAINT "Restore_mirrorVaultId_fkey" FOREIGN KEY ("mirrorVaultId") REFERENCES "Vault"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Restore" ADD CONSTRAINT "Restore_sourceInstanceId_fkey" FOREIGN KEY ("sourceInstanceId") REFERENCES "HanaInstance"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Restore" ADD CONSTRAINT "Restore_targetInstanceId_fkey" FOREIGN KEY ("targetInstanceId") REFERENCES "HanaInstance"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
