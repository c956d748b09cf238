import { STATUS_CODES } from 'node:http';
import { Catch, HttpException, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from '../../../../libs/logging/index.js';

/**
 * Every error leaves as JSON: `{ statusCode, error, message }`. Client mistakes keep their 4xx
 * (including body-parser's malformed JSON and oversized bodies); anything else is a 500 whose
 * details go to the log, never to the client.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let message = 'internal error';
    let report: object = {};
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      message =
        typeof body === 'string'
          ? body
          : String((body as { message?: unknown }).message ?? exception.message);
      // Terminus answers a failed readiness check with its report (status, info, error, details):
      // keep it, it is what tells the operator which check failed.
      if (typeof body === 'object' && body !== null && 'details' in body) report = body;
    } else if (isClientError(exception)) {
      status = exception.status;
      message =
        exception.type === 'entity.parse.failed'
          ? 'malformed JSON body'
          : exception.type === 'entity.too.large'
            ? 'request body too large'
            : exception.message;
    } else if (isDatabaseUnavailable(exception)) {
      // The database is down or refusing connections: the client may retry later (503), and
      // /health/ready says the same; not a server bug (500).
      status = HttpStatus.SERVICE_UNAVAILABLE;
      message = 'the database is unavailable; try again later';
      this.logger.warn('HTTP request failed: database unavailable', {
        error: exception instanceof Error ? exception : new Error(String(exception)),
      });
    } else {
      this.logger.error('unhandled error in HTTP handler', {
        error: exception instanceof Error ? exception : new Error(String(exception)),
      });
    }
    if (response.headersSent) return;
    response
      .status(status)
      .json({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message, ...report });
  }
}

function isClientError(e: unknown): e is { status: number; type?: string; message: string } {
  const status = (e as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** Connection failures of node-postgres: network errors, SQLSTATE class 08, 57P0x, refused logins. */
function isDatabaseUnavailable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE'].includes(code))
      return true;
    // 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now;
    // 55000 with this message: the database does not accept connections (ALLOW_CONNECTIONS false).
    if (code.startsWith('08') || /^57P0[123]$/.test(code)) return true;
    if (code === '55000' && /not currently accepting connections/.test(String((e as Error).message)))
      return true;
  }
  const message = e instanceof Error ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect/.test(message);
}
