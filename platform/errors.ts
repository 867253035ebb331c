/**
 * The small error hierarchy every room throws. Each error names what is wrong and how to
 * fix it, so the CLI can print it as-is and exit with the documented code.
 */
export class HalflifeError extends Error {
  /** Process exit code the CLI uses for this kind of failure. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The configuration (file, environment or flags) is invalid. Exit code 2. */
export class ConfigError extends HalflifeError {
  override readonly exitCode = 2;
}

/** Input data (an event, a file, a policy) does not match its contract. Exit code 3. */
export class ValidationError extends HalflifeError {
  override readonly exitCode = 3;
  constructor(
    message: string,
    readonly issues: ValidationIssue[] = [],
  ) {
    super(message);
  }
}

/** One problem found in a piece of input: where (a field path) and what. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** A required program or service is missing or unreachable. Exit code 4. */
export class DependencyError extends HalflifeError {
  override readonly exitCode = 4;
}

/** A named thing (model, decision, workflow) does not exist. Exit code 5. */
export class NotFoundError extends HalflifeError {
  override readonly exitCode = 5;
}

/**
 * The request contradicts the current state (a tainted version cannot be promoted, nothing to
 * roll back to). Exit code 1; the API answers 409.
 */
export class ConflictError extends HalflifeError {}
