import { ERROR_REGISTRY, type ErrorCode, type Severity } from "./registry.js";

export type ErrorDetails = Readonly<Record<string, unknown>>;

/**
 * The single error class of AeroDB. Severity and invariant come from the registry, never
 * from the call site, so the same failure always reports the same way.
 */
export class AeroError extends Error {
  readonly code: ErrorCode;
  readonly severity: Severity;
  readonly invariant: string;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AeroError";
    this.code = code;
    const spec = ERROR_REGISTRY[code];
    this.severity = spec.severity;
    this.invariant = spec.invariant;
    this.details = details;
  }

  /** The client-facing form: no stack, no cause, no internal paths. */
  toJSON(): {
    status: "error";
    code: ErrorCode;
    severity: Severity;
    message: string;
    invariant: string;
    details?: ErrorDetails;
  } {
    return {
      status: "error",
      code: this.code,
      severity: this.severity,
      message: this.message,
      invariant: this.invariant,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isAeroError(value: unknown): value is AeroError {
  return value instanceof AeroError;
}

export function isFatal(value: unknown): boolean {
  return value instanceof AeroError && value.severity === "FATAL";
}
