// The vault listing's data, written with plain SQL in one transaction: one account (the one the benchmark calls
// as) with VAULTS vaults spread over the configured regions, every fourth a MIRROR of the vault before it (with
// its Replication row); SOURCE vaults hold a few completed backups and mirrors their copies. Other accounts own
// vaults interleaved in time, so the account filter has rows to skip.
import { createHash } from "node:crypto";
import type pg from "pg";
import { config } from "../../src/config.ts";
import { hashApiKey } from "../../src/domain/accounts.ts";

export const VAULTS = 10_000;
const OTHER_ACCOUNTS = 3;
const OTHER_VAULTS_EACH = 1_000;
const BACKUPS_PER_SOURCE = 3;

/** md5(text)::uuid, as the seed SQL computes ids. */
export function uuidOf(text: string) {
  const hex = createHash("md5").update(text).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const accountId = (index: number) => uuidOf(`bench-account-${index}`);

export async function seedVaults(client: pg.Client, apiKey: string) {
  const regions = config.regions.map((region) => region.id);
  await client.query("begin");
  await client.query(
    `insert into "Account" (id, name)
     select md5('bench-account-' || a)::uuid, 'bench account ' || a from generate_series(0, $1::int) a`,
    [OTHER_ACCOUNTS],
  );
  await client.query(`insert into "ApiKey" (id, "accountId", "keyHash") values (md5('bench-key')::uuid, $1, $2)`, [
    accountId(0),
    hashApiKey(apiKey),
  ]);
  // Account 0 gets VAULTS vaults, the others OTHER_VAULTS_EACH each; created one second apart, interleaved.
  await client.query(
    `insert into "Vault" (id, "accountId", name, description, kind, status, "regionId", "createdAt", "sourceVaultId")
     select md5('bench-vault-' || a || '-' || i)::uuid,
            md5('bench-account-' || a)::uuid,
            'vault-' || lpad(i::text, 5, '0'),
            case when i % 3 = 0 then 'benchmark vault ' || i end,
            (case when i % 4 = 0 then 'MIRROR' else 'SOURCE' end)::"VaultKind",
            'CREATED'::"VaultStatus",
            ($3::text[])[1 + (i % cardinality($3::text[]))],
            timestamp '2026-01-01' + (i * ($4::int + 1) + a) * interval '1 second',
            case when i % 4 = 0 then md5('bench-vault-' || a || '-' || (i - 1))::uuid end
     from generate_series(0, $4::int) a
     cross join lateral generate_series(1, case when a = 0 then $1::int else $2::int end) i`,
    [VAULTS, OTHER_VAULTS_EACH, regions, OTHER_ACCOUNTS],
  );
  await client.query(
    `insert into "Replication" ("mirrorVaultId", "sourceRegionId", "targetRegionId", "historicalSyncStatus",
                                "historicalSyncScheduledAt", "historicalSyncStartedAt", "historicalSyncCompletedAt",
                                "historicalBackupTotal", "historicalBackupDone", "latestReplicationTime")
     select m.id, s."regionId", m."regionId", 'COMPLETED', m."createdAt" + interval '90 minutes',
            m."createdAt" + interval '90 minutes', m."createdAt" + interval '91 minutes', $1, $1,
            m."createdAt" + interval '91 minutes'
     from "Vault" m join "Vault" s on s.id = m."sourceVaultId"`,
    [BACKUPS_PER_SOURCE],
  );
  await client.query(
    `insert into "HanaInstance" (id, "accountId", "regionId", "vaultId", name, sid, "instanceNumber", host,
                                 "ecsInstanceIds", "userName", "passwordCipher", status)
     values (md5('bench-instance')::uuid, $1, $2, md5('bench-vault-0-1')::uuid, 'bench', 'HDB', '00', 'hana.bench',
             array['i-bench'], 'SYSTEM', 'x', 'INITIALIZED')`,
    [accountId(0), regions[1 % regions.length]],
  );
  await client.query(
    `insert into "Backup" (id, "accountId", "vaultId", "instanceId", "databaseName", type, status, "hanaBackupId",
                           prefix, "startedAt", "completedAt", "sizeBytes")
     select md5('bench-backup-' || i || '-' || b)::uuid, v."accountId", v.id, md5('bench-instance')::uuid, 'HDB',
            (case when b = 1 then 'COMPLETE' else 'LOG' end)::"BackupType", 'COMPLETE'::"BackupStatus",
            i * 10 + b, 'bench/' || i || '/' || b, v."createdAt" + b * interval '1 minute',
            v."createdAt" + b * interval '2 minutes', (i * 1000 + b)::bigint * 1024
     from generate_series(1, $1::int) i
     join "Vault" v on v.id = md5('bench-vault-0-' || i)::uuid and v.kind = 'SOURCE'
     cross join generate_series(1, $2::int) b`,
    [VAULTS, BACKUPS_PER_SOURCE],
  );
  await client.query(
    `insert into "BackupCopy" ("backupId", "mirrorVaultId", "sizeBytes")
     select b.id, m.id, b."sizeBytes"
     from "Vault" m join "Backup" b on b."vaultId" = m."sourceVaultId"
     where m."accountId" = $1 and m.kind = 'MIRROR'`,
    [accountId(0)],
  );
  await client.query("commit");
  await client.query("analyze");
  const counts = await client.query<{ vaults: string; backups: string; copies: string }>(
    `select (select count(*) from "Vault") as vaults, (select count(*) from "Backup") as backups,
            (select count(*) from "BackupCopy") as copies`,
  );
  const row = counts.rows[0];
  return { vaults: Number(row.vaults), backups: Number(row.backups), copies: Number(row.copies) };
}
