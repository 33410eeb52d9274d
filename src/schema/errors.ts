import { builder } from "../api/builder.ts";
import {
  Conflict,
  type DomainError,
  errorCode,
  FailedPrecondition,
  Forbidden,
  InvalidInput,
  NotFound,
} from "../domain/errors.ts";

const ErrorCode = builder.enumType("ErrorCode", {
  values: {
    INVALID_INPUT: { description: "the input breaks a rule (length, format, same region, ...)" },
    NOT_FOUND: { description: "unknown id, or an id the caller's account may not see" },
    CONFLICT: { description: "uniqueness (a second mirror, a duplicate name where names are unique)" },
    FAILED_PRECONDITION: { description: "state forbids it now" },
    FORBIDDEN: { description: "the caller lacks the scope" },
  } as const,
});

const ErrorInterface = builder.interfaceRef<Error>("Error").implement({
  fields: (t) => ({
    message: t.exposeString("message"),
    code: t.field({ type: ErrorCode, resolve: (error) => errorCode(error as DomainError) }),
  }),
});

const FieldIssue = builder.objectRef<{ path: string[]; message: string }>("FieldIssue").implement({
  fields: (t) => ({
    path: t.exposeStringList("path"),
    message: t.exposeString("message"),
  }),
});

builder.objectType(InvalidInput, {
  name: "InvalidInputError",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof InvalidInput,
  fields: (t) => ({
    issues: t.field({ type: [FieldIssue], resolve: (error) => error.issues }),
  }),
});

for (const [ErrorClass, name] of [
  [NotFound, "NotFoundError"],
  [Conflict, "ConflictError"],
  [FailedPrecondition, "FailedPreconditionError"],
  [Forbidden, "ForbiddenError"],
] as const) {
  builder.objectType(ErrorClass, {
    name,
    interfaces: [ErrorInterface],
    isTypeOf: (value) => value instanceof ErrorClass,
  });
}

/** Error options for a mutation: its success payload is returned directly, inside the contract's union. */
export function resultUnion(unionName: string, types: (typeof InvalidInput | typeof NotFound)[]) {
  return { types, directResult: true as const, union: { name: unionName } };
}
