import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { refuseAuthentication } from '../access/access.guard';
import { AuthRateLimiter } from '../access/auth-rate-limiter';
import { ProvisioningTokensService } from './provisioning-tokens.service';

export type ScimRequest = FastifyRequest & { provisioningTokenId?: string };

/** /scim/v2 answers provisioning tokens only: an API or session token, whatever its access, is 401 here. */
@Injectable()
export class ScimAuthGuard implements CanActivate {
  constructor(
    private readonly tokens: ProvisioningTokensService,
    private readonly limiter: AuthRateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ScimRequest>();
    const match = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/.exec(String(request.headers.authorization ?? '').trim());
    const id = match ? await this.tokens.authenticate(match[1]) : null;
    if (!id)
      refuseAuthentication(this.limiter, request.ip ?? 'unknown', context.switchToHttp().getResponse<FastifyReply>());
    request.provisioningTokenId = id;
    return true;
  }
}
