import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as client from 'openid-client';
import { DataSource } from 'typeorm';
import { changedRows } from '../database/changed-rows';
import { TokensService } from '../access/tokens.service';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, AppConfig, OidcConfig } from '../config/config';
import type { RefusalReason } from './pages';
import { SiteUrl } from './site-url';

/** How long a person may take at their identity provider before coming back. */
const ATTEMPT_MINUTES = 10;
export const BROWSER_COOKIE = 'leeway_oidc';
export const CALLBACK_PATH = '/auth/oidc/callback';

export interface Refusal {
  ok: false;
  status: 400 | 403 | 429 | 503;
  reason: RefusalReason;
  vars: Record<string, string | number>;
  /** Whether the page says to go back and sign in again (the attempt itself failed). */
  startOver: boolean;
  /** The user it concerns, when known, and what the audit log keeps beyond the reason (claim, error). */
  userId?: string;
  record?: Record<string, unknown>;
}

export type SignInOutcome = { ok: true; redirect: string } | Refusal;

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * OpenID Connect sign-in (authorization code with PKCE) through openid-client: discovery, JWKS,
 * ID token, state and nonce checks are the library's. Leeway's part: each attempt is stored (by the
 * hash of its state) with its PKCE verifier and nonce, bound to the browser that started it by a
 * cookie, used once and for ten minutes at most; the person is matched by one claim to a user's
 * externalRef, and nobody is created by signing in.
 */
@Injectable()
export class OidcService {
  private readonly log = new Logger(OidcService.name);
  private discovered?: Promise<client.Configuration>;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: TokensService,
    private readonly audit: AuditService,
    private readonly site: SiteUrl,
  ) {}

  get enabled(): boolean {
    return this.config.oidc !== undefined;
  }

  private get settings(): OidcConfig {
    if (!this.config.oidc) throw new Error('OpenID Connect is not configured');
    return this.config.oidc;
  }

  /** The provider's metadata and keys, discovered once; a failed discovery is tried again next time. */
  private configuration(): Promise<client.Configuration> {
    if (!this.discovered) {
      const { issuer, clientId, clientSecret } = this.settings;
      const url = new URL(issuer);
      this.discovered = client
        .discovery(url, clientId, clientSecret, clientSecret ? client.ClientSecretPost(clientSecret) : client.None(), {
          // The ID token's signature is checked against the provider's published keys, although
          // it comes straight from the token endpoint (where OpenID Connect lets TLS stand in):
          // a wrong key or `alg: none` is refused whatever carried the answer.
          // http:// is accepted for localhost only (the configuration refuses it elsewhere).
          execute: [
            client.enableNonRepudiationChecks,
            ...(url.protocol === 'http:' ? [client.allowInsecureRequests] : []),
          ],
          timeout: 10,
        })
        .catch((error: unknown) => {
          this.discovered = undefined;
          throw error;
        });
    }
    return this.discovered;
  }

  /** Where to send the browser, and the cookie that binds the attempt to it. */
  async start(returnTo: string): Promise<{ location: string; browser: string } | Refusal> {
    let config: client.Configuration;
    try {
      config = await this.configuration();
    } catch (error) {
      this.log.warn(`identity provider discovery failed: ${(error as Error).message}`);
      return unreachable();
    }
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const browser = randomBytes(32).toString('base64url');
    await this.dataSource.query(`DELETE FROM oidc_attempts WHERE created_at < now() - make_interval(mins => $1)`, [
      ATTEMPT_MINUTES,
    ]);
    await this.dataSource.query(
      `INSERT INTO oidc_attempts (state_hash, browser_hash, code_verifier, nonce, return_to) VALUES ($1, $2, $3, $4, $5)`,
      [sha256(state), sha256(browser), verifier, nonce, returnTo],
    );
    const location = client.buildAuthorizationUrl(config, {
      redirect_uri: this.site.to(CALLBACK_PATH),
      scope: this.settings.claim === 'email' ? 'openid email profile' : 'openid profile',
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { location: location.href, browser };
  }

  /**
   * The provider sent the browser back: check everything, then start a session or refuse. Every
   * refusal but an unreachable provider goes to the audit log in its own statement, after anything
   * the refusal rolled back; `record: false` (a client already past the failed sign-in limit)
   * skips that.
   */
  async callback(
    query: string,
    browser: string | undefined,
    userAgent: string | undefined,
    opts: { record: boolean } = { record: true },
  ): Promise<SignInOutcome> {
    const outcome = await this.complete(query, browser, userAgent);
    if (!outcome.ok && outcome.reason !== 'unreachable' && opts.record) {
      await this.audit.record(this.dataSource.manager, {
        actorId: outcome.userId ?? null,
        action: 'sign_in.refused',
        subjectType: 'user',
        subjectId: outcome.userId ?? null,
        details: { ...outcome.record, via: 'oidc', reason: outcome.reason },
      });
    }
    return outcome;
  }

  private async complete(
    query: string,
    browser: string | undefined,
    userAgent: string | undefined,
  ): Promise<SignInOutcome> {
    const params = new URLSearchParams(query);
    const state = params.get('state');
    if (!state) return again('incomplete');
    // Used once: whatever happens next, this attempt cannot be replayed.
    const [attempt] = await changedRows<{
      browser_hash: Buffer;
      code_verifier: string;
      nonce: string;
      return_to: string;
      fresh: boolean;
    }>(
      this.dataSource,
      `DELETE FROM oidc_attempts WHERE state_hash = $1
       RETURNING browser_hash, code_verifier, nonce, return_to, created_at > now() - make_interval(mins => $2) AS fresh`,
      [sha256(state), ATTEMPT_MINUTES],
    );
    if (!attempt) return again('used');
    if (!attempt.fresh) return again('tooSlow', { minutes: ATTEMPT_MINUTES });
    if (!browser || !timingSafeEqual(sha256(browser), attempt.browser_hash)) return again('otherBrowser');
    const error = params.get('error');
    if (error) {
      const description = params.get('error_description');
      const answer = `${error}${description ? ` (${description})` : ''}`;
      return { ...again('providerRefused', { answer }), record: { answer: answer.slice(0, 300) } };
    }

    let claims: Record<string, unknown>;
    try {
      const config = await this.configuration();
      const tokens = await client.authorizationCodeGrant(config, new URL(`${this.site.to(CALLBACK_PATH)}?${query}`), {
        pkceCodeVerifier: attempt.code_verifier,
        expectedState: state,
        expectedNonce: attempt.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims()!;
      claims = { ...idToken };
      // Providers that follow the letter of OpenID Connect put scope claims (email) in the UserInfo
      // answer, not the ID token: ask there, for this same subject.
      if (claims[this.settings.claim] === undefined && tokens.access_token) {
        claims = { ...(await client.fetchUserInfo(config, tokens.access_token, idToken.sub)), ...idToken };
      }
    } catch (error) {
      const message = (error as Error).message;
      this.log.warn(`sign-in answer refused: ${message}`);
      if (error instanceof TypeError || /fetch failed|timed? ?out|ECONNREFUSED/i.test(message)) return unreachable();
      return { ...again('unverifiable'), record: { error: message.slice(0, 300) } };
    }
    return this.signIn(claims, attempt.return_to, userAgent);
  }

  private async signIn(
    claims: Record<string, unknown>,
    returnTo: string,
    userAgent: string | undefined,
  ): Promise<SignInOutcome> {
    const { claim } = this.settings;
    const value = claims[claim];
    if (typeof value !== 'string' || value === '') {
      return { ...refuse('noClaim', { claim }), record: { claim, sub: claims.sub } };
    }
    // Only an address the provider vouches for: some providers let people set their own (Entra ID's
    // `email` is one, and never says it is verified), which would let anyone claim anyone's account.
    if (claim === 'email' && claims.email_verified !== true) {
      return { ...refuse('unverifiedEmail'), record: { email: value } };
    }
    return this.dataSource.transaction(async (m) => {
      const users: Array<{ id: string; active: boolean }> = await m.query(
        claim === 'email'
          ? `SELECT id, active FROM users
              WHERE lower(external_ref) = lower($1) AND NOT 'integration' = ANY (access) LIMIT 2`
          : `SELECT id, active FROM users WHERE external_ref = $1 AND NOT 'integration' = ANY (access)`,
        [value],
      );
      // Integrations are programs and never sign in: to a person's identity provider they do not exist.
      // Two users whose references differ only in case: nobody is picked at random.
      if (users.length > 1) return { ...refuse('ambiguous', { value }), record: { [claim]: value } };
      const user = users[0];
      if (!user || !user.active) {
        return {
          ...refuse(user ? 'deactivated' : 'unknown', { value }),
          userId: user?.id,
          record: { [claim]: value },
        };
      }
      const session = await this.tokens.startSession(m, user.id, 'oidc', this.config.sessionHours, userAgent);
      return { ok: true as const, redirect: `${returnTo}#session=${session.token}` };
    });
  }
}

function again(reason: RefusalReason, vars: Record<string, string | number> = {}): Refusal {
  return { ok: false, status: 400, reason, vars, startOver: true };
}

function refuse(reason: RefusalReason, vars: Record<string, string | number> = {}): Refusal {
  return { ok: false, status: 403, reason, vars, startOver: false };
}

function unreachable(): Refusal {
  return { ok: false, status: 503, reason: 'unreachable', vars: {}, startOver: false };
}
