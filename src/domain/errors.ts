// Domain errors: thrown by domain functions (shared by resolvers and workers), mapped onto the contract's
// error types by the API. Messages are for users: they say what is wrong and what to do.

export type FieldIssue = { path: string[]; message: string };

export class DomainError extends Error {}

export class InvalidInput extends DomainError {
  readonly issues: FieldIssue[];
  constructor(message: string, issues: FieldIssue[] = []) {
    super(message);
    this.issues = issues;
  }
  static field(path: string[], message: string): InvalidInput {
    return new InvalidInput(message, [{ path, message }]);
  }
}

export class NotFound extends DomainError {}
export class Conflict extends DomainError {}
export class FailedPrecondition extends DomainError {}
export class Forbidden extends DomainError {}

export type ErrorCode = "INVALID_INPUT" | "NOT_FOUND" | "CONFLICT" | "FAILED_PRECONDITION" | "FORBIDDEN";

export function errorCode(error: DomainError): ErrorCode {
  if (error instanceof InvalidInput) return "INVALID_INPUT";
  if (error instanceof NotFound) return "NOT_FOUND";
  if (error instanceof Conflict) return "CONFLICT";
  if (error instanceof FailedPrecondition) return "FAILED_PRECONDITION";
  return "FORBIDDEN";
}

/** The first line of a failure, for the "attempt failed, retrying: …" note a row carries while its job retries. */
export function firstLineOf(error: unknown): string {
  return (error as Error)?.message?.split("\n")[0] ?? String(error);
}
