import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../common/domain-error';
import { AccessLevel, PEOPLE_LEVELS } from './access-level';
import { ALLOW_KEY, PUBLIC_KEY } from './allow.decorator';
import { AuthRateLimiter } from './auth-rate-limiter';
import { TokensService } from './tokens.service';
import { Principal } from './principal';

/** The one guard: authenticates the bearer token, then checks the route's @Allow levels. */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
    private readonly limiter: AuthRateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const token = bearer(request.headers.authorization);
    // The token is checked first, whatever the client's record: only failures are limited, so a
    // valid token is served even from an address other clients (behind one proxy, say) failed from.
    const principal = token ? await this.tokens.authenticate(token) : null;
    if (!principal) {
      refuseAuthentication(this.limiter, request.ip ?? 'unknown', context.switchToHttp().getResponse<FastifyReply>());
    }
    request.principal = principal;
    const allowed = this.reflector.getAllAndOverride<AccessLevel[] | undefined>(ALLOW_KEY, targets);
    if (allowed && allowed.length > 0) {
      if (!allowed.some((level) => principal.access.includes(level)))
        throw new DomainError('FORBIDDEN', `This needs one of these access levels: ${allowed.join(', ')}.`);
    } else if (!PEOPLE_LEVELS.some((level) => principal.access.includes(level))) {
      throw new DomainError('FORBIDDEN', 'Integration tokens may log credits and import them, nothing else.');
    }
    return true;
  }
}

/**
 * Throws 401, or 429 with Retry-After once the client has failed too often. Every failure counts,
 * including those while limited, so a limited client stays limited while it keeps guessing.
 */
export function refuseAuthentication(limiter: AuthRateLimiter, client: string, reply: FastifyReply): never {
  const limited = limiter.isBlocked(client);
  const wait = limiter.recordFailure(client);
  if (limited) {
    reply.header('retry-after', String(wait));
    throw new DomainError('RATE_LIMITED', `Too many failed authentication attempts; retry after ${wait} seconds.`);
  }
  throw new DomainError('UNAUTHENTICATED', 'A valid bearer token is required.');
}

function bearer(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/.exec(header.trim());
  return match ? match[1] : null;
}
