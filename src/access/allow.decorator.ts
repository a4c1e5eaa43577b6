import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiSignedIn } from '../common/openapi';
import { AccessLevel } from './access-level';
import { Principal } from './principal';

export const ALLOW_KEY = 'leeway:allow';
export const PUBLIC_KEY = 'leeway:public';

/**
 * Access levels that may call the route; any one suffices. `@Allow()` with none means any signed-in
 * person (every level but integration, whose programs reach only the routes that name it).
 * The same list documents the route's bearer scheme and its 401/403/429/503 answers.
 */
export const Allow = (...levels: AccessLevel[]) => applyDecorators(SetMetadata(ALLOW_KEY, levels), ApiSignedIn(levels));

/** Routes that need no token (health, docs). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<{ principal: Principal }>().principal;
});
