// The served schema: one file per domain, each holding its types and the fields next to them.
import { builder } from "../api/builder.ts";
import { describeSchema } from "./descriptions.ts";
import "./errors.ts";
import "./region.ts";
import "./account.ts";
import "./vault.ts";
import "./backupClient.ts";
import "./hana.ts";
import "./backup.ts";
import "./mirror.ts";
import "./restore.ts";
import "./transfer.ts";
import "./webhook.ts";
import "./recoverability.ts";
import "./drills.ts";

export const schema = builder.toSchema({ sortSchema: false });
// Descriptions the definitions leave out (generated types, the catalogue); the test counts what is still missing.
export const unusedDescriptions = describeSchema(schema);
