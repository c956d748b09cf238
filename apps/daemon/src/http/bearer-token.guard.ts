import { createHash, timingSafeEqual } from 'node:crypto';
import {
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { CONFIG } from '../../../../libs/kernel/index.js';
import type { AppConfig } from '../../../../libs/config/index.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * `Authorization: Bearer <token>` against `http.api_token` (PIPELINE_API_TOKEN). The comparison
 * is of fixed-length digests in constant time, so timing tells nothing about the token.
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(CONFIG) config: AppConfig) {
    const token = config.http.api_token?.reveal();
    this.expected = token ? digest(token) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected)
      throw new UnauthorizedException(
        'this endpoint is disabled: no API token is configured (PIPELINE_API_TOKEN)',
      );
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (!match) throw new UnauthorizedException('missing bearer token (Authorization: Bearer <token>)');
    if (!timingSafeEqual(digest(match[1]!), this.expected)) throw new UnauthorizedException('invalid token');
    return true;
  }
}
