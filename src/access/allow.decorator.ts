import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { AccessLevel } from './access-level';
import { Principal } from './principal';

export const ALLOW_KEY = 'leeway:allow';
export const PUBLIC_KEY = 'leeway:public';

/** Access levels that may call the route; any one suffices. `@Allow()` with none means any signed-in user. */
export const Allow = (...levels: AccessLevel[]) => SetMetadata(ALLOW_KEY, levels);

/** Routes that need no token (health, docs). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<{ principal: Principal }>().principal;
});
