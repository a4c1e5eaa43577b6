import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { conflictOn } from '../common/pg-errors';
import { changedRows } from '../database/changed-rows';
import { CreateUserDto, MeView, UpdateUserDto, UserView } from './dto/user.dto';
import { AccessLevel } from './access-level';
import { Principal } from './principal';
import { activeAdmin, keepAnAdmin } from './last-admin';
import { TokensService } from './tokens.service';

/** A user as stored, in the driver's types. */
interface UserRow {
  id: string;
  display_name: string;
  access: AccessLevel[];
  role_id: string | null;
  team_id: string | null;
  external_ref: string | null;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

const USER_COLUMNS = 'id, display_name, access, role_id, team_id, external_ref, active, created_at, updated_at';

/** The fields an admin may change, by their name in the API and their column. */
const EDITABLE = {
  displayName: 'display_name',
  access: 'access',
  roleId: 'role_id',
  teamId: 'team_id',
  externalRef: 'external_ref',
  active: 'active',
} as const;

function view(u: UserRow): UserView {
  return {
    id: u.id,
    displayName: u.display_name,
    access: u.access,
    roleId: u.role_id,
    teamId: u.team_id,
    externalRef: u.external_ref,
    active: u.active,
    createdAt: u.created_at.toISOString(),
    updatedAt: u.updated_at.toISOString(),
  };
}

@Injectable()
export class UsersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly tokens: TokensService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(actor: Principal, dto: CreateUserDto): Promise<UserView> {
    return this.write(async (m) => {
      await this.checkRefs(m, dto.roleId, dto.teamId);
      const [saved]: UserRow[] = await m.query(
        `INSERT INTO users (display_name, access, role_id, team_id, external_ref)
         VALUES ($1, $2, $3, $4, $5) RETURNING ${USER_COLUMNS}`,
        [dto.displayName, dto.access, dto.roleId ?? null, dto.teamId ?? null, dto.externalRef ?? null],
      );
      await this.audit.record(m, {
        actorId: actor.id,
        action: 'user.created',
        subjectType: 'user',
        subjectId: saved.id,
        details: {
          displayName: saved.display_name,
          access: saved.access,
          roleId: saved.role_id,
          teamId: saved.team_id,
        },
      });
      return view(saved);
    });
  }

  async update(actor: Principal, id: string, dto: UpdateUserDto): Promise<UserView> {
    return this.write(async (m) => {
      const [user]: UserRow[] = await m.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [id]);
      if (!user) throw new DomainError('NOT_FOUND', 'No such user.');
      await this.checkRefs(m, dto.roleId, dto.teamId);
      const next = { ...user };
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const [key, column] of Object.entries(EDITABLE) as Array<[keyof typeof EDITABLE, keyof UserRow]>) {
        const value = dto[key];
        if (value === undefined) continue;
        if (JSON.stringify(user[column]) === JSON.stringify(value)) continue;
        changes[key] = { from: user[column], to: value };
        (next as Record<string, unknown>)[column] = value;
      }
      if (Object.keys(changes).length === 0) return view(user);
      // A program and a person never share an account: sessions, sign-in links and keys belong to one.
      if (changes.access && user.access.includes('integration') !== next.access.includes('integration')) {
        throw DomainError.validation(
          'access',
          'a person cannot become an integration, nor an integration a person; create a new user instead',
        );
      }
      if (
        user.id === actor.id &&
        (changes.active || changes.access) &&
        !(next.active && next.access.includes('admin'))
      ) {
        // An admin cannot lock themselves out by accident.
        throw DomainError.validation(changes.active ? 'active' : 'access', 'you cannot remove your own admin access');
      }
      if (activeAdmin(user) && !activeAdmin(next)) await keepAnAdmin(m, id);
      const [saved] = await changedRows<UserRow>(
        m,
        `UPDATE users SET display_name = $2, access = $3, role_id = $4, team_id = $5, external_ref = $6, active = $7,
                updated_at = now()
          WHERE id = $1 RETURNING ${USER_COLUMNS}`,
        [id, next.display_name, next.access, next.role_id, next.team_id, next.external_ref, next.active],
      );
      // A deactivated user's tokens, sessions and sign-in links end with this commit, for good:
      // reactivating them later does not bring any of them back.
      const revoked = changes.active && !saved.active ? await this.tokens.revokeEverything(m, id) : undefined;
      // An admin's deactivation holds until an admin lifts it: provisioning cannot switch them back on.
      if (changes.active)
        await m.query(`UPDATE users SET deactivated_in_leeway = $2 WHERE id = $1`, [id, !saved.active]);
      await this.audit.record(m, {
        actorId: actor.id,
        action: 'user.changed',
        subjectType: 'user',
        subjectId: id,
        details: revoked ? { ...changes, revoked } : changes,
      });
      return view(saved);
    });
  }

  async get(id: string): Promise<UserView> {
    const [user]: UserRow[] = await this.dataSource.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
    if (!user) throw new DomainError('NOT_FOUND', 'No such user.');
    return view(user);
  }

  async list(limit: number, cursor?: string): Promise<Page<UserView>> {
    const after = decodeCursor(cursor, 2);
    const rows: UserRow[] = await this.dataSource.query(
      `SELECT ${USER_COLUMNS} FROM users
        WHERE $1::text IS NULL OR (display_name, id) > ($1, $2::uuid)
        ORDER BY display_name, id LIMIT $3`,
      [after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    );
    return toPage(rows, limit, view, (u) => [u.display_name, u.id]);
  }

  async me(principal: Principal): Promise<MeView> {
    const rows: Array<Record<string, string | null>> = await this.dataSource.query(
      `SELECT r.id AS role_id, r.name AS role_name, t.id AS team_id, t.name AS team_name
         FROM users u LEFT JOIN roles r ON r.id = u.role_id LEFT JOIN teams t ON t.id = u.team_id
        WHERE u.id = $1`,
      [principal.id],
    );
    const r = rows[0] ?? {};
    return {
      id: principal.id,
      displayName: principal.displayName,
      access: principal.access,
      role: r.role_id ? { id: r.role_id, name: r.role_name as string } : null,
      team: r.team_id ? { id: r.team_id, name: r.team_name as string } : null,
      reversalWindowHours: this.config.reversalWindowHours,
    };
  }

  private async checkRefs(m: EntityManager, roleId?: string | null, teamId?: string | null): Promise<void> {
    if (roleId) {
      const found: unknown[] = await m.query(`SELECT 1 FROM roles WHERE id = $1`, [roleId]);
      if (found.length === 0) throw DomainError.validation('roleId', 'no job role has this id');
    }
    if (teamId) {
      const found: unknown[] = await m.query(`SELECT 1 FROM teams WHERE id = $1`, [teamId]);
      if (found.length === 0) throw DomainError.validation('teamId', 'no team has this id');
    }
  }

  private write<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return conflictOn('users_external_ref_uq', 'externalRef', 'Another user already has this externalRef.', () =>
      this.tokens.committed(work),
    );
  }
}
