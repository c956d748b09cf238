/**
 * Every failure a stage raises is one of two kinds: `retryable` (the world may be different in a
 * moment: a dropped connection, a lock, a timeout) or `permanent` (bad input or a broken rule:
 * retrying gives the same answer, so the runner does not).
 */
export type ErrorKind = 'retryable' | 'permanent';

export class PipelineError extends Error {
  override name = 'PipelineError';
  constructor(
    message: string,
    readonly kind: ErrorKind,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad input or a violated rule: the message names the file, line, table, row or key. */
export class PermanentError extends PipelineError {
  override name = 'PermanentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'permanent', options);
  }
}

export class RetryableError extends PipelineError {
  override name = 'RetryableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'retryable', options);
  }
}

/** The run lost its lock (or was told to stop) and must not commit anything more. */
export class FencedError extends PipelineError {
  override name = 'FencedError';
  constructor(message: string) {
    super(message, 'permanent');
  }
}

/**
 * The gate a stage ran alongside did not pass (see `StageOptions.gatedBy`): the stage's
 * uncommitted work rolls back and it is skipped. Permanent: the gate has already decided.
 */
export class GateClosedError extends PipelineError {
  override name = 'GateClosedError';
  constructor(
    readonly gate: string,
    readonly gateStatus: string,
  ) {
    super(`skipped: ${gate} ${gateStatus}; the work done alongside it was rolled back`, 'permanent');
  }
}

/** The stage ran past its timeout. Retryable: a slow moment may pass. */
export class StageTimeoutError extends PipelineError {
  override name = 'StageTimeoutError';
  constructor(stage: string, timeoutMs: number) {
    super(`stage ${stage} did not finish within ${timeoutMs} ms`, 'retryable');
  }
}

// SQLSTATE classes whose cause is in the data or the SQL, not in the moment.
const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '23', '42', '2B', '3D', '3F', '44']);

/** Classifies any error: our own carry their kind; database errors by SQLSTATE; the rest retry. */
export function errorKind(error: unknown): ErrorKind {
  if (error instanceof PipelineError) return error.kind;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return PERMANENT_SQLSTATE_CLASSES.has(code.slice(0, 2)) ? 'permanent' : 'retryable';
  }
  return 'retryable';
}
