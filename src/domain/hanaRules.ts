// SAP HANA naming rules (R13), from ../shared/reference/domain.md.
import { z } from "zod";

export const RESERVED_SIDS = new Set(
  (
    "ADD ADM ALL AMD AND ANY ARE ASC AUX AVG BIN BIT CDC COM CON DAA DBA DBM DBO DTD ECO END EPS EXE FOR GET GID IBM " +
    "INT KEY LIB LOG LPT MAP MAX MEM MIG MIN MON NET NIX NOT NUL OFF OLD OMS OUT PAD PRN RAW REF ROW SAP SET SGA SHG " +
    "SID SQL SUM SYS TMP TOP TRC UID USE USR VAR"
  ).split(" "),
);

export const sid = z
  .string()
  .regex(/^[A-Z][A-Z0-9]{2}$/, "SID must be 3 characters: an uppercase letter, then uppercase letters or digits")
  .refine((value) => !RESERVED_SIDS.has(value), { message: "this SID is reserved by SAP; choose another" });

export const instanceNumber = z
  .string()
  .regex(/^\d{2}$/, 'instance number must be two digits, "00" to "97"')
  .refine((value) => Number(value) <= 97, { message: 'instance number must be between "00" and "97"' });

const hostName =
  /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const ipv4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
export const host = z
  .string()
  .trim()
  .refine((value) => ipv4.test(value) || hostName.test(value), {
    message: "host must be a host name or an IPv4 address",
  });

export const ecsInstanceIds = z
  .array(z.string().trim().min(1, "ECS instance ids must not be empty"))
  .min(1, "at least one ECS instance id is needed")
  .max(64, "at most 64 ECS instance ids");

export const instanceName = z.string().trim().min(1, "name must not be empty").max(64, "name is at most 64 characters");
export const userName = z.string().trim().min(1, "userName must not be empty").max(128, "userName is too long");
export const password = z.string().min(1, "password must not be empty").max(256, "password is too long");

export const SYSTEMDB = "SYSTEMDB";
