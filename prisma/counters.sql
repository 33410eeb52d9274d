-- The Vault counters (backupCount, storedBytes, listedBackups) as the migrations leave them: kept by the database
-- in the very transaction that inserts, updates or deletes Backup and BackupCopy rows, whoever writes them, so
-- listings read them instead of counting rows. Statement-level triggers: a bulk write updates each vault once.
-- test/db/migrations.test.ts applies this file to the database it builds from schema.prisma.

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
