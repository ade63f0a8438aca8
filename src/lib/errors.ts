// The one base error of Fathom: a stable `code` that callers and docs/errors.md rely on, and a `cause`
// chain that keeps context.

export class FathomError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FathomError';
    this.code = code;
  }
}

/** Wraps `cause` with a message naming what was being done, keeping the cause's code when it has one. */
export function withContext(what: string, cause: unknown, code?: string): FathomError {
  const causeCode = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new FathomError(code ?? (typeof causeCode === 'string' ? causeCode : 'EUNKNOWN'), `${what}: ${message}`, { cause });
}

/** The errno-style code of an error (`ECONNREFUSED`, ...), or undefined. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Why a fetch() failed: the errno it hides in `cause` (`ECONNREFUSED`...), else the error's name (`TimeoutError`...). */
export function fetchErrorCode(err: unknown): string {
  return errorCode((err as { cause?: unknown } | null)?.cause) ?? errorCode(err) ?? (err as Error).name;
}
