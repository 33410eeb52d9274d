// The kinds of value a configuration variable holds, as zod schemas over the raw environment string (README
// "Configuration"). Unset or empty means the default. Messages say what is expected; only numbers and short words are
// echoed back, since a URL or a key may carry a secret.
import { z } from "zod";

/** The environment's raw value: a string, or nothing. */
const raw = z.string().optional();

function isUnset(value: string | undefined): value is undefined {
  return value === undefined || value.trim() === "";
}

/** A whole number in [min, max] (durations in ms, ports, counts). */
export function whole(fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  return raw.transform((value, ctx) => {
    if (isUnset(value)) return fallback;
    const text = value.trim();
    const parsed = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
      ctx.addIssue({ code: "custom", message: `must be a whole number ${range} (got "${text.slice(0, 40)}")` });
      return z.NEVER;
    }
    return parsed;
  });
}

/** Free text with a default (names, prefixes, folders, keys). */
export function text(fallback: string) {
  return raw.transform((value) => (isUnset(value) ? fallback : value));
}

/** Free text; unset stays undefined. */
export function optionalText() {
  return raw.transform((value) => (isUnset(value) ? undefined : value.trim()));
}

/** A URL of one of `protocols` (e.g. "postgresql:"); unset stays undefined. The value is never echoed. */
export function optionalUrl(protocols: string[]) {
  return raw.transform((value, ctx) => {
    if (isUnset(value)) return undefined;
    let url: URL;
    try {
      url = new URL(value.trim());
    } catch {
      ctx.addIssue({ code: "custom", message: `must be a URL (${protocols.map((p) => `${p}//…`).join(" or ")})` });
      return z.NEVER;
    }
    if (!protocols.includes(url.protocol)) {
      ctx.addIssue({ code: "custom", message: `must be a ${protocols.join(" or ")} URL, not ${url.protocol}` });
      return z.NEVER;
    }
    return value.trim();
  });
}

/** true/false (also 1/0, yes/no). */
export function flag(fallback: boolean) {
  return raw.transform((value, ctx) => {
    if (isUnset(value)) return fallback;
    const word = value.trim().toLowerCase();
    if (["true", "1", "yes"].includes(word)) return true;
    if (["false", "0", "no"].includes(word)) return false;
    ctx.addIssue({ code: "custom", message: `must be true or false (got "${value.trim().slice(0, 40)}")` });
    return z.NEVER;
  });
}

/** A comma-separated list of trimmed, non-empty items; unset: `fallback`. */
export function list(fallback: string[]) {
  return raw.transform((value) =>
    isUnset(value)
      ? fallback
      : value
          .split(",")
          .map((item) => item.trim())
          .filter(Boolean),
  );
}

/** One of a few words (a log level, an environment's name); case and spaces around it do not matter. */
export function oneOf<const T extends readonly [string, ...string[]]>(words: T, fallback: T[number]) {
  return raw.transform((value, ctx): T[number] => {
    if (isUnset(value)) return fallback;
    const word = value.trim().toLowerCase();
    if ((words as readonly string[]).includes(word)) return word as T[number];
    ctx.addIssue({
      code: "custom",
      message: `must be one of ${words.join(", ")} (got "${value.trim().slice(0, 40)}")`,
    });
    return z.NEVER;
  });
}
