import { Injectable } from '@nestjs/common';
import { ClientLimit } from '../access/auth-rate-limiter';

/** How many OpenID Connect sign-ins one client address may start, and have refused, in a minute. */
export const OIDC_PER_MINUTE = 60;

/**
 * Starting a sign-in stores an attempt before anyone is known, and a refused answer writes to the
 * audit log: both are counted per client, together, apart from failed authentications by token or
 * link (a refused answer guesses no secret: the attempt it names is 256 random bits). A person
 * retrying, or an office behind one address, stays far below the limit; past it a start answers
 * 429 and stores nothing, and a refused answer is still answered but no longer audited.
 */
@Injectable()
export class OidcLimiter extends ClientLimit {
  constructor() {
    super(OIDC_PER_MINUTE);
  }
}
