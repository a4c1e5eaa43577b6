import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { duplicateOf } from '../common/pg-errors';
import { CreateUserDto, MeView, UpdateUserDto, UserView } from './dto/user.dto';
import { User } from './user.entity';
import { Principal } from './principal';
import { TokensService } from './tokens.service';

function view(u: User): UserView {
  return {
    id: u.id,
    displayName: u.displayName,
    access: u.access,
    roleId: u.roleId,
    teamId: u.teamId,
    externalRef: u.externalRef,
    active: u.active,
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
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
      const user = m.create(User, {
        displayName: dto.displayName,
        access: dto.access,
        roleId: dto.roleId ?? null,
        teamId: dto.teamId ?? null,
        externalRef: dto.externalRef ?? null,
        active: true,
      });
      const saved = await m.save(user);
      await this.audit.record(m, {
        actorId: actor.id,
        action: 'user.created',
        subjectType: 'user',
        subjectId: saved.id,
        details: { displayName: saved.displayName, access: saved.access, roleId: saved.roleId, teamId: saved.teamId },
      });
      return view(saved);
    });
  }

  async update(actor: Principal, id: string, dto: UpdateUserDto): Promise<UserView> {
    return this.write(async (m) => {
      const user = await m.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw new DomainError('NOT_FOUND', 'No such user.');
      await this.checkRefs(m, dto.roleId, dto.teamId);
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const key of ['displayName', 'access', 'roleId', 'teamId', 'externalRef', 'active'] as const) {
        const next = dto[key];
        if (next === undefined) continue;
        if (JSON.stringify(user[key]) === JSON.stringify(next)) continue;
        changes[key] = { from: user[key], to: next };
        (user as unknown as Record<string, unknown>)[key] = next;
      }
      if (Object.keys(changes).length === 0) return view(user);
      if (
        user.id === actor.id &&
        (changes.active || changes.access) &&
        !(user.active && user.access.includes('admin'))
      ) {
        // An admin cannot lock themselves out by accident.
        throw DomainError.validation(changes.active ? 'active' : 'access', 'you cannot remove your own admin access');
      }
      const saved = await m.save(user);
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
    const user = await this.dataSource.getRepository(User).findOne({ where: { id } });
    if (!user) throw new DomainError('NOT_FOUND', 'No such user.');
    return view(user);
  }

  async list(limit: number, cursor?: string): Promise<Page<UserView>> {
    const after = decodeCursor(cursor, 2);
    const qb = this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .orderBy('u.displayName')
      .addOrderBy('u.id')
      .limit(limit + 1);
    if (after) qb.where('(u.display_name, u.id) > (:name, :id::uuid)', { name: after[0], id: after[1] });
    const rows = await qb.getMany();
    return toPage(rows, limit, view, (u) => [u.displayName, u.id]);
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

  private async write<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.tokens.committed(work);
    } catch (error) {
      if (duplicateOf(error) === 'users_external_ref_uq') {
        throw new DomainError('CONFLICT', 'Another user already has this externalRef.', [
          { field: 'externalRef', message: 'is already in use' },
        ]);
      }
      throw error;
    }
  }
}
