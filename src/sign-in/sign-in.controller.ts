import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Allow, CurrentUser, Public } from '../access/allow.decorator';
import { AuthRateLimiter } from '../access/auth-rate-limiter';
import { Principal } from '../access/principal';
import { DomainError } from '../common/domain-error';
import { ApiProblems } from '../common/openapi';
import { uuidPipe } from '../common/uuid.pipe';
import { IssuedLinkView, RedeemLinkDto, SignInOptionsView, StartedSessionView } from './dto/sign-in.dto';
import { BROWSER_COOKIE, CALLBACK_PATH, OidcService, Refusal } from './oidc.service';
import { pageLanguage, refusalPage } from './pages';
import { SignInLinksService } from './sign-in-links.service';
import { OIDC_PER_MINUTE, OidcLimiter } from './oidc-limiter';
import { SiteUrl } from './site-url';

const START_PATH = '/auth/oidc/start';
const HTML = 'text/html; charset=utf-8';
const PAGE = { 'text/html': { schema: { type: 'string' } } };

@ApiTags('sign-in')
@Controller()
export class SignInController {
  constructor(
    private readonly oidc: OidcService,
    private readonly links: SignInLinksService,
    private readonly limiter: AuthRateLimiter,
    private readonly oidcLimit: OidcLimiter,
    private readonly site: SiteUrl,
  ) {}

  @Get('v1/sign-in')
  @ApiOperation({ summary: 'How people can sign in here' })
  @Public()
  @ApiOkResponse({ type: SignInOptionsView, description: 'The ways to sign in' })
  options(): SignInOptionsView {
    return { oidc: this.oidc.enabled, oidcStartPath: this.oidc.enabled ? START_PATH : null };
  }

  @Get(START_PATH.slice(1))
  @ApiOperation({ summary: 'Browser: leave for the identity provider to sign in (OpenID Connect, code + PKCE)' })
  @Public()
  @ApiQuery({ name: 'returnTo', required: false, description: 'A path on this service to come back to (default /)' })
  @ApiResponse({
    status: 302,
    description: 'To the identity provider, with a cookie that binds the attempt to this browser',
  })
  @ApiResponse({
    status: 429,
    description: `More than ${OIDC_PER_MINUTE} sign-ins started or refused for this client in a minute (Retry-After says when to try again)`,
    content: PAGE,
  })
  @ApiResponse({ status: 503, description: 'The identity provider cannot be reached', content: PAGE })
  @ApiProblems(404)
  async start(
    @Query('returnTo') returnTo: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!this.oidc.enabled)
      throw new DomainError(
        'NOT_FOUND',
        'Sign-in through an identity provider is not configured here (LEEWAY_OIDC_ISSUER).',
      );
    // Each start stores an attempt before anyone is known: a flood from one client stores none.
    const client = request.ip ?? 'unknown';
    const limited = this.oidcLimit.isBlocked(client);
    const wait = this.oidcLimit.record(client);
    if (limited) {
      reply.header('retry-after', String(wait));
      return page(request, reply, {
        ok: false,
        status: 429,
        reason: 'tooMany',
        vars: { seconds: wait },
        startOver: false,
      });
    }
    const outcome = await this.oidc.start(safeReturn(returnTo));
    if ('ok' in outcome) return page(request, reply, outcome);
    reply
      .header('set-cookie', this.cookie(request, outcome.browser, 600))
      .header('cache-control', 'no-store')
      .redirect(outcome.location, 302);
  }

  @Get(CALLBACK_PATH.slice(1))
  @ApiOperation({ summary: 'Browser: the identity provider sends the person back here' })
  @Public()
  @ApiResponse({ status: 303, description: 'Signed in: to `returnTo#session=<session token>`' })
  @ApiResponse({ status: 400, description: 'Replayed, expired, tampered, or from another browser', content: PAGE })
  @ApiResponse({ status: 403, description: 'Unknown or deactivated person', content: PAGE })
  @ApiResponse({ status: 503, description: 'The identity provider cannot be reached', content: PAGE })
  @ApiProblems(404)
  async callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (!this.oidc.enabled)
      throw new DomainError(
        'NOT_FOUND',
        'Sign-in through an identity provider is not configured here (LEEWAY_OIDC_ISSUER).',
      );
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    const client = request.ip ?? 'unknown';
    // A client past either limit (its sign-ins here, or its unknown tokens and links) is still
    // answered, since a real answer from the provider still signs its person in, but its refusals
    // are not written to the audit log: made-up answers cost nothing to send.
    const outcome = await this.oidc.callback(
      query,
      readCookie(request.headers.cookie, BROWSER_COOKIE),
      userAgent(request),
      { record: !this.oidcLimit.isBlocked(client) && !this.limiter.isBlocked(client) },
    );
    if (!outcome.ok && outcome.reason !== 'unreachable') this.oidcLimit.record(client);
    reply.header('set-cookie', this.cookie(request, '', 0)).header('cache-control', 'no-store');
    if (outcome.ok) return void reply.redirect(this.site.to(outcome.redirect), 303);
    page(request, reply, outcome);
  }

  @Post('v1/sessions')
  @ApiOperation({ summary: 'Trade a sign-in link for a session token (the link works once)' })
  @Public()
  @ApiCreatedResponse({ type: StartedSessionView, description: 'Signed in' })
  @ApiProblems(401, 429)
  async redeem(
    @Body() dto: RedeemLinkDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const client = request.ip ?? 'unknown';
    try {
      return await this.links.redeem(dto.link, userAgent(request), { record: !this.limiter.isBlocked(client) });
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'UNAUTHENTICATED') throw error;
      // Only failures count, as for tokens: a valid link always works.
      const limited = this.limiter.isBlocked(client);
      const wait = this.limiter.recordFailure(client);
      if (limited) {
        reply.header('retry-after', String(wait));
        throw new DomainError('RATE_LIMITED', `Too many failed sign-ins; retry after ${wait} seconds.`);
      }
      throw error;
    }
  }

  @Post('v1/users/:id/sign-in-links')
  @ApiOperation({ summary: 'Issue a one-time sign-in link for a user (works once, within 24 hours)' })
  @Allow('admin')
  @ApiCreatedResponse({ type: IssuedLinkView, description: 'The link, shown this once' })
  @ApiProblems(404, [
    409,
    'The user is deactivated or an integration, or sign-in links are off here (LEEWAY_SIGN_IN_LINKS=first-admin-only, the default with an identity provider: people sign in through it)',
  ])
  issue(@CurrentUser() me: Principal, @Param('id', uuidPipe) id: string): Promise<IssuedLinkView> {
    return this.links.issue(me.id, id);
  }

  /** Secure whenever the browser reached the service over https (directly or through a trusted proxy). */
  private cookie(request: FastifyRequest, value: string, maxAge: number): string {
    const secure = request.protocol === 'https' || this.site.base.startsWith('https:') ? '; Secure' : '';
    return `${BROWSER_COOKIE}=${value}; Path=/auth/oidc; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure}`;
  }
}

function page(request: FastifyRequest, reply: FastifyReply, outcome: Refusal): void {
  const language = pageLanguage(request.headers['accept-language']);
  reply.code(outcome.status).header('content-type', HTML).header('cache-control', 'no-store');
  reply.header('content-language', language);
  reply.send(refusalPage(language, outcome.reason, outcome.vars, outcome.startOver));
}

/**
 * Back to the app only (`/`, with a query such as a helpdesk's `?caseRef=`): never another origin,
 * and never a page that would not take the session out of the address bar.
 */
export function safeReturn(raw: string | undefined): string {
  if (!raw || !/^\/(\?[^\s#]*)?$/.test(raw) || raw.length > 500) return '/';
  return raw;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=') || undefined;
  }
  return undefined;
}

function userAgent(request: FastifyRequest): string | undefined {
  const ua = request.headers['user-agent'];
  return typeof ua === 'string' ? ua.slice(0, 300) : undefined;
}
