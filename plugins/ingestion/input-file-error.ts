import { PermanentError, RetryableError, type PipelineError } from '@pipeline/kernel';

/**
 * File system faults that stay until someone acts on the file or a folder on its path: retrying
 * them only repeats the same answer later. What they mean, as the error says it after the path.
 */
const PERMANENT_FAULTS: Readonly<Record<string, string>> = {
  ENOENT: 'missing input file',
  ENOTDIR: 'cannot be reached, a name on its path is not a folder (ENOTDIR)',
  ELOOP: 'refused, it is a loop of symbolic links (ELOOP: a link that leads back to itself)',
  ENAMETOOLONG: 'cannot be reached, its path is too long (ENAMETOOLONG)',
  EISDIR: 'refused, it is a directory, not a regular file',
  EACCES: 'cannot be read (EACCES: permission denied)',
  EPERM: 'cannot be read (EPERM: operation not permitted)',
};

/**
 * The error for a failed file system call on an input file or folder, naming its path: permanent
 * for the faults above, retryable for the rest (too many open files, an I/O error, a network file
 * system that timed out: the moment may pass). `meaning` overrides what a code means for one call.
 */
export function inputFileError(
  path: string,
  error: unknown,
  meaning: Readonly<Record<string, PipelineError>> = {},
): PipelineError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && meaning[code]) return meaning[code];
  const permanent = code === undefined ? undefined : PERMANENT_FAULTS[code];
  if (permanent) return new PermanentError(`${path}: ${permanent}`, { cause: error });
  return new RetryableError(`${path}: ${code ?? (error as Error).message}`, { cause: error });
}

/** Runs a file system call on an input; its failure is `inputFileError`'s. */
export async function inputFileOperation<T>(
  path: string,
  operation: () => Promise<T>,
  meaning?: Readonly<Record<string, PipelineError>>,
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw inputFileError(path, error, meaning);
  }
}
