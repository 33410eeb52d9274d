-- DropIndex
DROP INDEX "Backup_vaultId_startedAt_idx";

-- AlterTable
ALTER TABLE "Vault" ADD COLUMN     "backupCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "listedBackups" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "storedBytes" BIGINT NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "Backup_vaultId_startedAt_id_idx" ON "Backup"("vaultId", "startedAt", "id");

-- Vault counters kept by triggers (prisma/counters.sql, copied here as it was when this migration was made)
CREATE OR REPLACE FUNCTION "vault_counts_from_backups"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Each branch names only the transition tables its event has (plpgsql plans a statement when it first runs).
  IF TG_OP = 'INSERT' THEN
    UPDATE "Vault" v
    SET "listedBackups" = v."listedBackups" + d.listed, "backupCount" = v."backupCount" + d.complete,
        "storedBytes" = v."storedBytes" + d.bytes
    FROM (SELECT "vaultId", count(*)::int AS listed, count(*) FILTER (WHERE status = 'COMPLETE')::int AS complete,
                 coalesce(sum("sizeBytes") FILTER (WHERE status = 'COMPLETE'), 0)::bigint AS bytes
          FROM new_rows GROUP BY "vaultId") d
    WHERE v.id = d."vaultId";
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE "Vault" v
    SET "listedBackups" = v."listedBackups" - d.listed, "backupCount" = v."backupCount" - d.complete,
        "storedBytes" = v."storedBytes" - d.bytes
    FROM (SELECT "vaultId", count(*)::int AS listed, count(*) FILTER (WHERE status = 'COMPLETE')::int AS complete,
                 coalesce(sum("sizeBytes") FILTER (WHERE status = 'COMPLETE'), 0)::bigint AS bytes
          FROM old_rows GROUP BY "vaultId") d
    WHERE v.id = d."vaultId";
  ELSE
    UPDATE "Vault" v
    SET "listedBackups" = v."listedBackups" + d.listed, "backupCount" = v."backupCount" + d.complete,
        "storedBytes" = v."storedBytes" + d.bytes
    FROM (SELECT "vaultId", sum(listed)::int AS listed, sum(complete)::int AS complete, sum(bytes)::bigint AS bytes
          FROM (SELECT "vaultId", 1 AS listed, (status = 'COMPLETE')::int AS complete,
                       CASE WHEN status = 'COMPLETE' THEN "sizeBytes" ELSE 0 END AS bytes
                FROM new_rows
                UNION ALL
                SELECT "vaultId", -1, -(status = 'COMPLETE')::int,
                       CASE WHEN status = 'COMPLETE' THEN -"sizeBytes" ELSE 0 END
                FROM old_rows) changes
          GROUP BY "vaultId") d
    -- An update that changes no status, size or vault (a message, a log position) leaves the vault row alone.
    WHERE v.id = d."vaultId" AND (d.listed <> 0 OR d.complete <> 0 OR d.bytes <> 0);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "vault_counts_from_copies"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE "Vault" v
    SET "listedBackups" = v."listedBackups" + d.copies, "backupCount" = v."backupCount" + d.copies,
        "storedBytes" = v."storedBytes" + d.bytes
    FROM (SELECT "mirrorVaultId", count(*)::int AS copies, coalesce(sum("sizeBytes"), 0)::bigint AS bytes
          FROM new_rows GROUP BY "mirrorVaultId") d
    WHERE v.id = d."mirrorVaultId";
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE "Vault" v
    SET "listedBackups" = v."listedBackups" - d.copies, "backupCount" = v."backupCount" - d.copies,
        "storedBytes" = v."storedBytes" - d.bytes
    FROM (SELECT "mirrorVaultId", count(*)::int AS copies, coalesce(sum("sizeBytes"), 0)::bigint AS bytes
          FROM old_rows GROUP BY "mirrorVaultId") d
    WHERE v.id = d."mirrorVaultId";
  ELSE
    UPDATE "Vault" v
    SET "listedBackups" = v."listedBackups" + d.copies, "backupCount" = v."backupCount" + d.copies,
        "storedBytes" = v."storedBytes" + d.bytes
    FROM (SELECT "mirrorVaultId", sum(copies)::int AS copies, sum(bytes)::bigint AS bytes
          FROM (SELECT "mirrorVaultId", 1 AS copies, "sizeBytes" AS bytes FROM new_rows
                UNION ALL
                SELECT "mirrorVaultId", -1, -"sizeBytes" FROM old_rows) changes
          GROUP BY "mirrorVaultId") d
    WHERE v.id = d."mirrorVaultId" AND (d.copies <> 0 OR d.bytes <> 0);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER "Backup_counts_insert" AFTER INSERT ON "Backup"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "vault_counts_from_backups"();
CREATE OR REPLACE TRIGGER "Backup_counts_update" AFTER UPDATE ON "Backup"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "vault_counts_from_backups"();
CREATE OR REPLACE TRIGGER "Backup_counts_delete" AFTER DELETE ON "Backup"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "vault_counts_from_backups"();
CREATE OR REPLACE TRIGGER "BackupCopy_counts_insert" AFTER INSERT ON "BackupCopy"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "vault_counts_from_copies"();
CREATE OR REPLACE TRIGGER "BackupCopy_counts_update" AFTER UPDATE ON "BackupCopy"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "vault_counts_from_copies"();
CREATE OR REPLACE TRIGGER "BackupCopy_counts_delete" AFTER DELETE ON "BackupCopy"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "vault_counts_from_copies"();

-- Existing rows: the counters start from what the tables hold now.
UPDATE "Vault" v SET "listedBackups" = s.listed, "backupCount" = s.complete, "storedBytes" = s.bytes
FROM (SELECT "vaultId", count(*)::int AS listed, count(*) FILTER (WHERE status = 'COMPLETE')::int AS complete,
             coalesce(sum("sizeBytes") FILTER (WHERE status = 'COMPLETE'), 0)::bigint AS bytes
      FROM "Backup" GROUP BY "vaultId") s
WHERE v.id = s."vaultId" AND v.kind = 'SOURCE';
UPDATE "Vault" v SET "listedBackups" = s.copies, "backupCount" = s.copies, "storedBytes" = s.bytes
FROM (SELECT "mirrorVaultId", count(*)::int AS copies, coalesce(sum("sizeBytes"), 0)::bigint AS bytes
      FROM "BackupCopy" GROUP BY "mirrorVaultId") s
WHERE v.id = s."mirrorVaultId";
