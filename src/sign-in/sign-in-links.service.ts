import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { hashToken, newToken } from '../access/token-hash';
import { TokensService } from '../access/tokens.service';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';
import { APP_CONFIG, AppConfig } from '../config/config';
import { SiteUrl } from './site-url';

const LINK_HOURS = 24;
const LINKS_OFF =
  'Sign-in links are off here: people sign in through the identity provider. The first-admin link at first start still works; LEEWAY_SIGN_IN_LINKS=on allows admins to issue links.';
export const SIGN_IN_PATH = '/sign-in';

export interface IssuedLink {
  id: string;
  url: string;
  expiresAt: string;
}

export interface RedeemedLink {
  token: string;
  sessionId: string;
  expiresAt: string;
  userId: string;
}

/**
 * Sign-in links, for installations without an identity provider: an admin issues one for a user
 * (unless LEEWAY_SIGN_IN_LINKS=first-admin-only, the default with an identity provider, where a link
 * would get around its sign-in policies);
 * it works once, for 24 hours, and only its hash is kept. A first start with no admin prints one
 * that makes its holder the first admin. The secret travels in the URL's fragment, which browsers
 * never send to a server, so it stays out of access logs and Referer headers.
 */
@Injectable()
export class SignInLinksService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: TokensService,
    private readonly audit: AuditService,
    private readonly site: SiteUrl,
  ) {}

  async issue(actorId: string, userId: string): Promise<IssuedLink> {
    if (this.config.signInLinks !== 'on') throw new DomainError('CONFLICT', LINKS_OFF);
    return this.dataSource.transaction(async (m) => {
      const users: Array<{ active: boolean; program: boolean }> = await m.query(
        `SELECT active, 'integration' = ANY (access) AS program FROM users WHERE id = $1`,
        [userId],
      );
      if (users.length === 0) throw new DomainError('NOT_FOUND', 'No such user.');
      if (!users[0].active) throw new DomainError('CONFLICT', 'This user is deactivated; reactivate them first.');
      if (users[0].program)
        throw new DomainError('CONFLICT', 'An integration is a program: it uses an API token, never a sign-in link.');
      const link = await this.insert(m, userId, actorId);
      await this.audit.record(m, {
        actorId,
        action: 'sign_in_link.issued',
        subjectType: 'user',
        subjectId: userId,
        details: { linkId: link.id, expiresAt: link.expiresAt },
      });
      return link;
    });
  }

  /**
   * A link that makes its holder the first admin; null once anyone has held admin access, even if
   * nobody active holds it now (then LEEWAY_BOOTSTRAP_TOKEN makes one): a restart must never write
   * an admin-making secret to logs that others may read.
   */
  async issueFirstAdmin(): Promise<IssuedLink | null> {
    return this.dataSource.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('leeway.bootstrap'))`);
      if (await adminEverExisted(m)) return null;
      const link = await this.insert(m, null, null);
      await this.audit.record(m, {
        actorId: null,
        action: 'sign_in_link.issued',
        subjectType: 'user',
        subjectId: null,
        details: { firstAdmin: true, linkId: link.id, expiresAt: link.expiresAt },
      });
      return link;
    });
  }

  private async insert(m: EntityManager, userId: string | null, actorId: string | null): Promise<IssuedLink> {
    const secret = newToken();
    const [row]: Array<{ id: string; expires_at: Date }> = await m.query(
      `INSERT INTO sign_in_links (user_id, token_hash, created_by, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(hours => $4)) RETURNING id, expires_at`,
      [userId, hashToken(secret), actorId, LINK_HOURS],
    );
    return { id: row.id, url: this.site.to(`${SIGN_IN_PATH}#link=${secret}`), expiresAt: row.expires_at.toISOString() };
  }

  /**
   * Trades a link for a session, once. A refusal rolls the transaction back and is then written to
   * the audit log on its own (with the link and its user when known); `record: false` (a client past
   * the failed sign-in limit) skips that, so guessing cannot fill the log.
   */
  async redeem(
    secret: string,
    userAgent: string | undefined,
    opts: { record: boolean } = { record: true },
  ): Promise<RedeemedLink> {
    try {
      return await this.dataSource.transaction((m) => this.trade(m, secret, userAgent));
    } catch (error) {
      if (error instanceof LinkRefused && opts.record)
        await this.audit.record(this.dataSource.manager, {
          actorId: error.userId,
          action: 'sign_in.refused',
          subjectType: 'user',
          subjectId: error.userId,
          details: { via: 'link', reason: error.reason, linkId: error.linkId },
        });
      throw error;
    }
  }

  private async trade(m: EntityManager, secret: string, userAgent: string | undefined): Promise<RedeemedLink> {
    const [link]: Array<{ id: string; user_id: string | null; used: boolean; expired: boolean }> = await m.query(
      `SELECT id, user_id, used_at IS NOT NULL AS used, expires_at <= now() AS expired
         FROM sign_in_links WHERE token_hash = $1 FOR UPDATE`,
      [hashToken(secret)],
    );
    if (!link) throw new LinkRefused('unknown', 'This sign-in link is not valid. Ask an admin for a new one.');
    const refused = (reason: string, detail: string, userId = link.user_id) =>
      new LinkRefused(reason, detail, link.id, userId);
    if (link.used)
      throw refused('used', 'This sign-in link was used already; each works once. Ask an admin for a new one.');
    if (link.expired)
      throw refused(
        'expired',
        `This sign-in link has expired (they last ${LINK_HOURS} hours). Ask an admin for a new one.`,
      );
    // Links issued before they were turned off end with them.
    if (link.user_id !== null && this.config.signInLinks !== 'on') throw refused('off', LINKS_OFF);
    const userId = link.user_id ?? (await this.createFirstAdmin(m, link.id));
    const users: Array<{ active: boolean; program: boolean }> = await m.query(
      `SELECT active, 'integration' = ANY (access) AS program FROM users WHERE id = $1`,
      [userId],
    );
    if (!users[0]?.active) throw refused('deactivated', 'This sign-in link belongs to a deactivated user.');
    if (users[0].program)
      throw refused('integration', 'This sign-in link belongs to an integration, which cannot sign in.');
    const session = await this.tokens.startSession(m, userId, 'link', this.config.sessionHours, userAgent, link.id);
    await m.query(`UPDATE sign_in_links SET used_at = now(), session_id = $2 WHERE id = $1`, [link.id, session.id]);
    return { token: session.token, sessionId: session.id, expiresAt: session.expiresAt, userId };
  }

  private async createFirstAdmin(m: EntityManager, linkId: string): Promise<string> {
    await m.query(`SELECT pg_advisory_xact_lock(hashtext('leeway.bootstrap'))`);
    if (await adminEverExisted(m))
      throw new LinkRefused(
        'firstAdminTaken',
        'An admin exists already, so this first-admin link no longer works. Ask them for a sign-in link.',
        linkId,
        null,
      );
    const [user]: Array<{ id: string }> = await m.query(
      `INSERT INTO users (display_name, access) VALUES ('Admin', ARRAY['admin']) RETURNING id`,
    );
    // The other first-admin links printed meanwhile (by other processes) end here, for good.
    await m.query(
      `UPDATE sign_in_links SET expires_at = now() WHERE user_id IS NULL AND used_at IS NULL AND id <> $1`,
      [linkId],
    );
    await this.audit.record(m, {
      actorId: null,
      action: 'user.created',
      subjectType: 'user',
      subjectId: user.id,
      details: { displayName: 'Admin', access: ['admin'], via: 'first-admin sign-in link', linkId },
    });
    return user.id;
  }
}

/** A link that does not sign anyone in; what the audit log keeps of the refusal travels with it. */
class LinkRefused extends DomainError {
  constructor(
    readonly reason: string,
    detail: string,
    readonly linkId: string | null = null,
    readonly userId: string | null = null,
  ) {
    super('UNAUTHENTICATED', detail);
  }
}

/** Whether anyone has ever held admin access: a user holding it (active or not), or an audited grant. */
async function adminEverExisted(m: EntityManager): Promise<boolean> {
  const found: unknown[] = await m.query(
    `SELECT 1 FROM users WHERE 'admin' = ANY (access)
     UNION ALL
     SELECT 1 FROM audit_events
      WHERE action IN ('user.created', 'user.changed')
        AND (details -> 'access' ? 'admin' OR details -> 'access' -> 'to' ? 'admin')
     LIMIT 1`,
  );
  return found.length > 0;
}
