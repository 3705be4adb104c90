/**
 * The base of every error class of ours: a `code` a caller can branch on (`ETIMEOUT`, `EJAM`,
 * `EDBNEWER`, ...) and a message that says what failed and what to do. `name` is the class's
 * name unless a subclass sets its own. Subclasses add the fields their callers need (the slot,
 * the tool and its exit code, the HTTP status, ...).
 */
export class CodedError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
