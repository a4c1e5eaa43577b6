import { Inject, Injectable } from '@nestjs/common';
import SCIMMY from 'scimmy';
import { changedRows } from '../database/changed-rows';
import { DataSource, EntityManager } from 'typeorm';
import { keepAnAdmin } from '../access/last-admin';
import { TokensService } from '../access/tokens.service';
import { DomainError } from '../common/domain-error';
import { AuditService } from '../audit/audit.service';
import { duplicateOf } from '../common/pg-errors';
import { APP_CONFIG, AppConfig } from '../config/config';
import { FilterColumn, ParsedFilter, sqlFilter } from './scim-filter';

/** What every handler is called with: the service, and the provisioning token that made the call. */
export interface ScimContext {
  service: ScimService;
  tokenId: string;
}

type Json = Record<string, any>;

interface UserRow {
  id: string;
  display_name: string;
  external_ref: string | null;
  active: boolean;
  scim_user_name: string | null;
  scim_external_id: string | null;
  team_id: string | null;
  team_name: string | null;
  created_at: Date;
  updated_at: Date;
}

interface TeamRow {
  id: string;
  name: string;
  external_ref: string | null;
  created_at: Date;
}

/** SCIM sees the users it provisioned or linked, never those managed in Leeway alone. */
const LINKED = `u.scim_user_name IS NOT NULL AND u.scim_deleted_at IS NULL`;

interface Provisioned {
  displayName: string;
  externalRef: string;
  active: boolean;
  userName: string;
  externalId: string | null;
}

const USER_SELECT = `SELECT u.id, u.display_name, u.external_ref, u.active, u.scim_user_name, u.scim_external_id,
                            u.team_id, t.name AS team_name, u.created_at, u.updated_at
                       FROM users u LEFT JOIN teams t ON t.id = u.team_id`;

/** What scimmy hands an egress handler for a list: the parsed filter, and sortBy/startIndex/count. */
interface Listing {
  filter?: ParsedFilter & { match(values: Json[]): Json[] };
  constraints?: { sortBy?: string; sortOrder?: string; startIndex?: number; count?: number };
}

/** Where a list reads from: its rows (a WHERE clause to extend), their count, their order, and the filterable columns. */
interface ListSource {
  select: string;
  count: string;
  order: string;
  columns: Readonly<Record<string, FilterColumn>>;
}

/** What scimmy answers when a list asks for no count. */
const DEFAULT_COUNT = 20;

const USERS: ListSource = {
  select: `${USER_SELECT} WHERE ${LINKED}`,
  count: `SELECT count(*)::int AS total FROM users u WHERE ${LINKED}`,
  order: 'u.created_at, u.id',
  columns: {
    id: { column: 'u.id', uuid: true },
    userName: { column: 'u.scim_user_name' },
    externalId: { column: 'u.scim_external_id' },
    displayName: { column: 'u.display_name' },
  },
};

const GROUPS: ListSource = {
  select: `SELECT t.id, t.name, t.external_ref, t.created_at FROM teams t WHERE t.scim_deleted_at IS NULL`,
  count: `SELECT count(*)::int AS total FROM teams t WHERE t.scim_deleted_at IS NULL`,
  order: 't.created_at, t.id',
  columns: {
    id: { column: 't.id', uuid: true },
    externalId: { column: 't.external_ref' },
    displayName: { column: 't.name' },
  },
};

/**
 * A list's answer to scimmy. scimmy's match runs again on what SQL found (cheap on a page, and the
 * final word on what a filter means). A page read in SQL must not be sliced again by scimmy's
 * ListResponse, nor counted as all there is: it gets startIndex 1 and the total here, and the
 * controller puts the asked startIndex back in the answer (`withStartIndex`).
 */
function answer(resource: Listing, items: Json[], total: number | undefined): Json[] {
  const matched = resource.filter ? resource.filter.match(items) : items;
  if (total !== undefined)
    resource.constraints = {
      ...resource.constraints,
      startIndex: 1,
      totalResults: total - (items.length - matched.length),
    } as Listing['constraints'];
  return matched;
}

const scimError = (status: number, scimType: string | null, detail: string) =>
  new SCIMMY.Types.Error(status as never, scimType as never, detail);

let declared = false;

/**
 * SCIM 2.0 resources through scimmy, which parses filters, applies patches, checks schemas and
 * words errors; this class stores what it hands over. Users are Leeway users (userName or
 * externalId becomes externalRef, per LEEWAY_SCIM_USER_REF); Groups are teams. Deleting a user
 * deactivates it (the ledger keeps its history); deactivating ends every token, session and
 * sign-in link the user has, in the same transaction.
 */
@Injectable()
export class ScimService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: TokensService,
    private readonly audit: AuditService,
  ) {
    declareResources();
  }

  // ---- Users ----

  async usersOut(resource: InstanceType<typeof SCIMMY.Resources.User>): Promise<Json | Json[]> {
    if (resource.id) {
      const [row]: UserRow[] = await this.dataSource.query(`${USER_SELECT} WHERE u.id = $1 AND ${LINKED}`, [
        resource.id,
      ]);
      if (!row) throw scimError(404, null, `Resource ${resource.id} not found`);
      return scimUser(row);
    }
    const { rows, total } = await this.listed<UserRow>(resource, USERS);
    return answer(resource, rows.map(scimUser), total);
  }

  /**
   * The rows a list asks for. A filter of `eq` on id, userName, externalId or displayName (what
   * providers send before every create or update, and `and`/`or` of such) becomes a WHERE clause,
   * and startIndex/count become OFFSET/LIMIT, so a lookup reads the rows it finds and no others.
   * Any other filter, or a sortBy, reads every row the resource has and leaves matching, sorting and
   * paging to scimmy, as before. `total` is set when the rows are one page of it.
   */
  private async listed<R>(resource: Listing, source: ListSource): Promise<{ rows: R[]; total?: number }> {
    const sql = resource.filter ? sqlFilter(resource.filter, source.columns) : { where: 'TRUE', params: [] };
    if (!sql || resource.constraints?.sortBy !== undefined) {
      const all: R[] = await this.dataSource.query(
        `${source.select} AND ${sql?.where ?? 'TRUE'} ORDER BY ${source.order}`,
        sql?.params ?? [],
      );
      return { rows: all };
    }
    const offset = (resource.constraints?.startIndex ?? 1) - 1;
    const limit = resource.constraints?.count ?? DEFAULT_COUNT;
    const n = sql.params.length;
    const rows: R[] = await this.dataSource.query(
      `${source.select} AND ${sql.where} ORDER BY ${source.order} OFFSET $${n + 1} LIMIT $${n + 2}`,
      [...sql.params, offset, limit],
    );
    // A short page is the last one, and says the total itself.
    if (rows.length < limit && (rows.length > 0 || offset === 0)) return { rows, total: offset + rows.length };
    const [{ total }]: Array<{ total: number }> = await this.dataSource.query(
      `${source.count} AND ${sql.where}`,
      sql.params,
    );
    return { rows, total };
  }

  async userIn(resource: { id?: string }, instance: Json, tokenId: string): Promise<Json> {
    const userName = String(instance.userName);
    const externalId = typeof instance.externalId === 'string' ? instance.externalId : null;
    const externalRef = this.config.scimUserRef === 'userName' ? userName : externalId;
    if (!externalRef)
      throw scimError(
        400,
        'invalidValue',
        'externalId is required: this service matches people by externalId (LEEWAY_SCIM_USER_REF)',
      );
    const displayName = (
      instance.displayName ||
      instance.name?.formatted ||
      [instance.name?.givenName, instance.name?.familyName].filter(Boolean).join(' ') ||
      userName
    ).slice(0, 200);
    const next: Provisioned = { displayName, externalRef, active: instance.active ?? true, userName, externalId };
    const via = { via: 'scim', provisioningTokenId: tokenId };
    const id = await this.write(async (m) => {
      if (resource.id) return this.updateUser(m, resource.id, next, via, 'update');
      // A create is always a new person, even after a delete with the same externalId: providers
      // reuse those (Entra ID's default is the mail alias), and a newcomer must never get a leaver's
      // account and history. A user made in Leeway with this reference is linked only while they
      // are an agent and nothing more: anyone holding more access, or an integration, is linked or
      // changed by an admin in Leeway, and the provider gets a conflict.
      const [local]: Array<{ id: string; access: string[] }> = await m.query(
        `SELECT id, access FROM users WHERE external_ref = $1 AND scim_user_name IS NULL AND scim_deleted_at IS NULL
          FOR UPDATE`,
        [externalRef],
      );
      if (local) {
        if (!agentOnly(local.access))
          throw scimError(
            409,
            'uniqueness',
            local.access.includes('integration')
              ? 'An integration has this reference: provisioning never links an integration'
              : 'A Leeway user with more than agent access has this reference: an admin links or changes it in Leeway',
          );
        return this.updateUser(m, local.id, next, via, 'link');
      }
      const [made]: Array<{ id: string }> = await m.query(
        `INSERT INTO users (display_name, access, external_ref, active, scim_user_name, scim_external_id)
         VALUES ($1, ARRAY['agent'], $2, $3, $4, $5) RETURNING id`,
        [displayName, externalRef, next.active, userName, externalId],
      );
      await this.audit.record(m, {
        actorId: null,
        action: 'user.created',
        subjectType: 'user',
        subjectId: made.id,
        details: { displayName, access: ['agent'], externalRef, active: next.active, ...via },
      });
      return made.id;
    });
    const [row]: UserRow[] = await this.dataSource.query(`${USER_SELECT} WHERE u.id = $1`, [id]);
    return scimUser(row);
  }

  /**
   * Applies what the provider says of a user SCIM manages ('update') or one it links ('link': made
   * in Leeway, not yet provisioned).
   */
  private async updateUser(
    m: EntityManager,
    id: string,
    wanted: Provisioned,
    via: Record<string, string>,
    how: 'update' | 'link',
  ): Promise<string> {
    const scope = how === 'update' ? LINKED : 'u.scim_user_name IS NULL';
    const [before]: Array<{
      display_name: string;
      external_ref: string | null;
      active: boolean;
      access: string[];
      deactivated_in_leeway: boolean;
    }> = await m.query(
      `SELECT display_name, external_ref, active, access, deactivated_in_leeway FROM users u
        WHERE id = $1 AND ${scope} FOR UPDATE`,
      [id],
    );
    if (!before) throw scimError(404, null, `Resource ${id} not found`);
    // Who signs in as a user with more than agent access is decided in Leeway: provisioning repoints
    // agents only (else a provisioning token could hand an auditor's account to another identity).
    if (!agentOnly(before.access) && before.external_ref !== wanted.externalRef)
      throw scimError(
        400,
        'mutability',
        'The reference of a user with more than agent access is changed in Leeway, not by provisioning',
      );
    // A deactivation made in Leeway holds until an admin lifts it there.
    const next = before.deactivated_in_leeway ? { ...wanted, active: false } : wanted;
    if (before.active && before.access.includes('admin') && !next.active) await keepAnAdmin(m, id);
    await m.query(
      `UPDATE users SET display_name = $2, external_ref = $3, active = $4, scim_user_name = $5, scim_external_id = $6,
                        scim_deleted_at = NULL, updated_at = now()
        WHERE id = $1`,
      [id, next.displayName, next.externalRef, next.active, next.userName, next.externalId],
    );
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    if (before.display_name !== next.displayName)
      changes.displayName = { from: before.display_name, to: next.displayName };
    if (before.external_ref !== next.externalRef)
      changes.externalRef = { from: before.external_ref, to: next.externalRef };
    if (before.active !== next.active) changes.active = { from: before.active, to: next.active };
    const context = { ...(how === 'link' ? { linked: true } : {}), ...via };
    const deprovisioned = before.active && !next.active;
    if (deprovisioned || Object.keys(changes).length > 0 || how !== 'update') {
      // Sessions were started as one identity: they end when the user becomes another's. API
      // tokens belong to programs and stay.
      const revoked = deprovisioned
        ? { revoked: await this.tokens.revokeEverything(m, id) }
        : changes.externalRef
          ? { revoked: { sessions: await this.tokens.endSessions(m, id) } }
          : {};
      await this.audit.record(m, {
        actorId: null,
        action: deprovisioned ? 'user.deprovisioned' : 'user.changed',
        subjectType: 'user',
        subjectId: id,
        details: { ...changes, ...revoked, ...context },
      });
    }
    return id;
  }

  /**
   * DELETE: deactivated, every way in ended, no longer listed by SCIM; the ledger keeps its history.
   * Its names are freed: whoever is provisioned with them later, even with the same externalId, is a
   * new user.
   */
  async userGone(id: string, tokenId: string): Promise<void> {
    await this.write(async (m) => {
      const [row]: Array<{ active: boolean; access: string[]; external_ref: string | null }> = await m.query(
        `SELECT active, access, external_ref FROM users u WHERE id = $1 AND ${LINKED} FOR UPDATE`,
        [id],
      );
      if (!row) throw scimError(404, null, `Resource ${id} not found`);
      if (row.active && row.access.includes('admin')) await keepAnAdmin(m, id);
      await m.query(
        `UPDATE users SET active = false, scim_deleted_at = now(), external_ref = NULL, scim_user_name = NULL,
                          updated_at = now()
          WHERE id = $1`,
        [id],
      );
      const revoked = await this.tokens.revokeEverything(m, id);
      await this.audit.record(m, {
        actorId: null,
        action: 'user.deprovisioned',
        subjectType: 'user',
        subjectId: id,
        details: {
          deleted: true,
          wasActive: row.active,
          externalRef: row.external_ref,
          revoked,
          via: 'scim',
          provisioningTokenId: tokenId,
        },
      });
    });
  }

  // ---- Groups (teams) ----

  async groupsOut(resource: InstanceType<typeof SCIMMY.Resources.Group>): Promise<Json | Json[]> {
    const { rows: teams, total } = resource.id
      ? {
          rows: (await this.dataSource.query(`${GROUPS.select} AND t.id = $1`, [resource.id])) as TeamRow[],
          total: undefined,
        }
      : await this.listed<TeamRow>(resource, GROUPS);
    if (resource.id && teams.length === 0) throw scimError(404, null, `Resource ${resource.id} not found`);
    const members: Array<{ team_id: string; id: string; display_name: string }> = await this.dataSource.query(
      `SELECT team_id, id, display_name FROM users u
        WHERE team_id = ANY($1::uuid[]) AND ${LINKED} ORDER BY display_name, id`,
      [teams.map((t) => t.id)],
    );
    const all = teams.map((t) =>
      scimGroup(
        t,
        members.filter((u) => u.team_id === t.id),
      ),
    );
    if (resource.id) return all[0];
    return answer(resource, all, total);
  }

  async groupIn(resource: { id?: string }, instance: Json, tokenId: string): Promise<Json> {
    const name = String(instance.displayName).slice(0, 120);
    const externalRef = typeof instance.externalId === 'string' ? instance.externalId : null;
    const wanted = ((instance.members ?? []) as Array<{ value?: string }>)
      .map((m) => m.value)
      .filter((v): v is string => typeof v === 'string' && /^[0-9a-f-]{36}$/i.test(v));
    const via = { via: 'scim', provisioningTokenId: tokenId };
    const id = await this.write(async (m) => {
      let teamId = resource.id;
      if (!teamId) {
        const [made]: Array<{ id: string }> = await m.query(
          `INSERT INTO teams (name, external_ref) VALUES ($1, $2) RETURNING id`,
          [name, externalRef],
        );
        teamId = made.id;
        await this.audit.record(m, {
          actorId: null,
          action: 'team.created',
          subjectType: 'team',
          subjectId: teamId,
          details: { name, ...via },
        });
      } else {
        const [before]: Array<{ name: string }> = await m.query(
          `SELECT name FROM teams WHERE id = $1 AND scim_deleted_at IS NULL FOR UPDATE`,
          [teamId],
        );
        if (!before) throw scimError(404, null, `Resource ${teamId} not found`);
        await m.query(`UPDATE teams SET name = $2, external_ref = $3 WHERE id = $1`, [teamId, name, externalRef]);
        if (before.name !== name)
          await this.audit.record(m, {
            actorId: null,
            action: 'team.changed',
            subjectType: 'team',
            subjectId: teamId,
            details: { name: { from: before.name, to: name }, ...via },
          });
      }
      // Membership is a user's team: members join it (leaving any other), the rest leave it. People
      // the provider names but never provisioned here are skipped.
      const left: Array<{ id: string }> = await changedRows(
        m,
        `UPDATE users u SET team_id = NULL, updated_at = now()
          WHERE team_id = $1 AND NOT (id = ANY($2::uuid[])) AND ${LINKED} RETURNING id`,
        [teamId, wanted],
      );
      const joined: Array<{ id: string }> = await changedRows(
        m,
        `UPDATE users u SET team_id = $1, updated_at = now()
          WHERE id = ANY($2::uuid[]) AND team_id IS DISTINCT FROM $1 AND ${LINKED} RETURNING id`,
        [teamId, wanted],
      );
      if (left.length + joined.length > 0)
        await this.audit.record(m, {
          actorId: null,
          action: 'team.changed',
          subjectType: 'team',
          subjectId: teamId,
          details: { joined: joined.map((u) => u.id), left: left.map((u) => u.id), ...via },
        });
      return teamId;
    });
    return (await this.groupsOut({ id } as never)) as Json;
  }

  /** DELETE: the team stays for the ledger's history; its members leave it and SCIM no longer lists it. */
  async groupGone(id: string, tokenId: string): Promise<void> {
    await this.tokens.committed(async (m) => {
      const found: unknown[] = await changedRows(
        m,
        `UPDATE teams SET scim_deleted_at = now() WHERE id = $1 AND scim_deleted_at IS NULL RETURNING id`,
        [id],
      );
      if (found.length === 0) throw scimError(404, null, `Resource ${id} not found`);
      const left: Array<{ id: string }> = await changedRows(
        m,
        `UPDATE users u SET team_id = NULL, updated_at = now() WHERE team_id = $1 AND ${LINKED} RETURNING id`,
        [id],
      );
      await this.audit.record(m, {
        actorId: null,
        action: 'team.changed',
        subjectType: 'team',
        subjectId: id,
        details: { deleted: true, left: left.map((u) => u.id), via: 'scim', provisioningTokenId: tokenId },
      });
    });
  }

  private async write<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.tokens.committed(work);
    } catch (error) {
      // The last active admin stays (see keepAnAdmin).
      if (error instanceof DomainError && error.code === 'CONFLICT') throw scimError(409, null, error.message);
      const constraint = duplicateOf(error);
      if (constraint === 'users_external_ref_uq' || constraint === 'users_scim_user_name_uq')
        throw scimError(409, 'uniqueness', 'A user with this userName or externalId exists already');
      if (constraint === 'teams_name_uq')
        throw scimError(409, 'uniqueness', 'A group with this displayName exists already');
      if (constraint === 'teams_external_ref_uq')
        throw scimError(409, 'uniqueness', 'A group with this externalId exists already');
      throw error;
    }
  }
}

/** Provisioning links and repoints agents only: never anyone holding more access, nor an integration. */
const agentOnly = (access: readonly string[]) => access.length === 1 && access[0] === 'agent';

function scimUser(r: UserRow): Json {
  const userName = r.scim_user_name ?? r.external_ref ?? r.id;
  return {
    id: r.id,
    ...(r.scim_external_id ? { externalId: r.scim_external_id } : {}),
    userName,
    displayName: r.display_name,
    name: { formatted: r.display_name },
    active: r.active,
    ...(userName.includes('@') ? { emails: [{ value: userName, type: 'work', primary: true }] } : {}),
    groups: r.team_id ? [{ value: r.team_id, display: r.team_name ?? undefined, type: 'direct' }] : [],
    meta: { created: r.created_at, lastModified: r.updated_at },
  };
}

function scimGroup(t: TeamRow, members: Array<{ id: string; display_name: string }>): Json {
  return {
    id: t.id,
    ...(t.external_ref ? { externalId: t.external_ref } : {}),
    displayName: t.name,
    members: members.map((u) => ({ value: u.id, display: u.display_name, type: 'User' })),
    meta: { created: t.created_at },
  };
}

/** scimmy's resources are process-wide; their handlers reach the service through the call's context. */
function declareResources(): void {
  if (declared) return;
  declared = true;
  SCIMMY.Config.set({
    patch: true,
    filter: { supported: true, maxResults: 1000 },
    sort: true,
    bulk: false,
    changePassword: false,
    etag: false,
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Provisioning token',
        description: 'A provisioning token issued by a Leeway admin',
        primary: true,
      },
    ],
  });
  SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .extend(SCIMMY.Schemas.EnterpriseUser as never, false)
    .ingress(
      (resource, instance, ctx: ScimContext) => ctx.service.userIn(resource, instance as Json, ctx.tokenId) as never,
    )
    .egress((resource, ctx: ScimContext) => ctx.service.usersOut(resource) as never)
    .degress((resource, ctx: ScimContext) => ctx.service.userGone(resource.id!, ctx.tokenId));
  SCIMMY.Resources.declare(SCIMMY.Resources.Group)
    .ingress(
      (resource, instance, ctx: ScimContext) => ctx.service.groupIn(resource, instance as Json, ctx.tokenId) as never,
    )
    .egress((resource, ctx: ScimContext) => ctx.service.groupsOut(resource) as never)
    .degress((resource, ctx: ScimContext) => ctx.service.groupGone(resource.id!, ctx.tokenId));
}
