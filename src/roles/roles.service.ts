import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '../access/principal';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { conflictOn } from '../common/pg-errors';
import { CreateRoleDto, LimitsVersionView, RoleView } from './dto/role.dto';
import { SetLimitsDto } from './dto/limits.dto';
import { CurrencyLimits, limitsFromRow, LimitsRow } from './limits';

const ROLE_COLUMNS = `id, name, description, current_limits_version, created_at`;

/** A job role as stored. */
interface RoleRow {
  id: string;
  name: string;
  description: string | null;
  current_limits_version: number;
  created_at: Date;
}

@Injectable()
export class RolesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async create(actor: Principal, dto: CreateRoleDto): Promise<RoleView> {
    return conflictOn('roles_name_uq', 'name', 'A job role with this name exists.', () =>
      this.dataSource.transaction(async (m) => {
        const [row]: Array<{ id: string; created_at: Date }> = await m.query(
          `INSERT INTO roles (name, description) VALUES ($1, $2) RETURNING id, created_at`,
          [dto.name.trim(), dto.description ?? null],
        );
        await this.audit.record(m, {
          actorId: actor.id,
          action: 'role.created',
          subjectType: 'role',
          subjectId: row.id,
          details: { name: dto.name.trim(), description: dto.description ?? null },
        });
        return {
          id: row.id,
          name: dto.name.trim(),
          description: dto.description ?? null,
          limitsVersion: 0,
          limits: [],
          createdAt: row.created_at.toISOString(),
        };
      }),
    );
  }

  async get(id: string): Promise<RoleView> {
    const roles: RoleRow[] = await this.dataSource.query(`SELECT ${ROLE_COLUMNS} FROM roles WHERE id = $1`, [id]);
    if (roles.length === 0) throw new DomainError('NOT_FOUND', 'No such job role.');
    return (await this.views(roles))[0];
  }

  async list(limit: number, cursor?: string): Promise<Page<RoleView>> {
    const after = decodeCursor(cursor, 2);
    const roles: RoleRow[] = await this.dataSource.query(
      `SELECT ${ROLE_COLUMNS} FROM roles
        WHERE ($2::text IS NULL OR (name, id) > ($2::text, $3::uuid))
        ORDER BY name, id LIMIT $1`,
      [limit + 1, after?.[0] ?? null, after?.[1] ?? null],
    );
    const views = await this.views(roles);
    return toPage(
      views,
      limit,
      (v) => v,
      (v) => [v.name, v.id],
    );
  }

  /** The current limits version; version 0 (no limits, no discretion) for a role never given any. */
  async currentLimits(roleId: string): Promise<LimitsVersionView> {
    const rows: Array<{ version: number; set_by: string | null; set_by_name: string | null; set_at: Date | null }> =
      await this.dataSource.query(
        `SELECT r.current_limits_version AS version, v.set_by, u.display_name AS set_by_name, v.set_at FROM roles r
           LEFT JOIN role_limit_versions v ON v.role_id = r.id AND v.version = r.current_limits_version
           LEFT JOIN users u ON u.id = v.set_by
          WHERE r.id = $1`,
        [roleId],
      );
    if (rows.length === 0) throw new DomainError('NOT_FOUND', 'No such job role.');
    const { version, set_by, set_by_name, set_at } = rows[0];
    const limits = await this.limitsOf([{ roleId, version }]);
    return {
      roleId,
      version,
      limits: limits.get(`${roleId}:${version}`) ?? [],
      setBy: set_by,
      setByName: set_by_name,
      setAt: set_at ? set_at.toISOString() : null,
    };
  }

  async setLimits(actor: Principal, roleId: string, dto: SetLimitsDto): Promise<LimitsVersionView> {
    const seen = new Set<string>();
    dto.limits.forEach((l, i) => {
      if (seen.has(l.currency)) throw DomainError.validation(`limits.${i}.currency`, `${l.currency} is listed twice`);
      seen.add(l.currency);
    });
    return this.dataSource.transaction(async (m) => {
      // The row lock on the role orders concurrent changes into consecutive versions.
      const rows: Array<{ version: number }> = await m.query(
        // (A CTE, because TypeORM returns [rows, count] for a bare UPDATE ... RETURNING.)
        `WITH bumped AS (UPDATE roles SET current_limits_version = current_limits_version + 1 WHERE id = $1
                         RETURNING current_limits_version AS version)
         SELECT version FROM bumped`,
        [roleId],
      );
      if (rows.length === 0) throw new DomainError('NOT_FOUND', 'No such job role.');
      const version = rows[0].version;
      const [set]: Array<{ set_at: Date }> = await m.query(
        `INSERT INTO role_limit_versions (role_id, version, set_by) VALUES ($1, $2, $3) RETURNING set_at`,
        [roleId, version, actor.id],
      );
      for (const l of dto.limits) {
        await m.query(
          `INSERT INTO role_limits (role_id, version, currency, per_credit, per_case, per_agent_day, per_agent_month)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            roleId,
            version,
            l.currency,
            l.perCredit ?? null,
            l.perCase ?? null,
            l.perAgentDay ?? null,
            l.perAgentMonth ?? null,
          ],
        );
      }
      const limits = [...dto.limits]
        .sort((a, b) => a.currency.localeCompare(b.currency))
        .map((l) =>
          limitsFromRow({
            currency: l.currency,
            per_credit: l.perCredit,
            per_case: l.perCase,
            per_agent_day: l.perAgentDay,
            per_agent_month: l.perAgentMonth,
          }),
        );
      await this.audit.record(m, {
        actorId: actor.id,
        action: 'role.limits_set',
        subjectType: 'role',
        subjectId: roleId,
        details: { version, limits: dto.limits },
      });
      return {
        roleId,
        version,
        limits,
        setBy: actor.id,
        setByName: actor.displayName,
        setAt: set.set_at.toISOString(),
      };
    });
  }

  async history(roleId: string, limit: number, cursor?: string): Promise<Page<LimitsVersionView>> {
    const after = decodeCursor(cursor, 1);
    const exists: unknown[] = await this.dataSource.query(`SELECT 1 FROM roles WHERE id = $1`, [roleId]);
    if (exists.length === 0) throw new DomainError('NOT_FOUND', 'No such job role.');
    const versions: Array<{ version: number; set_by: string | null; set_by_name: string | null; set_at: Date }> =
      await this.dataSource.query(
        `SELECT v.version, v.set_by, u.display_name AS set_by_name, v.set_at FROM role_limit_versions v
           LEFT JOIN users u ON u.id = v.set_by
          WHERE v.role_id = $1 AND ($3::int IS NULL OR v.version < $3::int)
          ORDER BY v.version DESC LIMIT $2`,
        [roleId, limit + 1, after ? Number.parseInt(after[0], 10) || 0 : null],
      );
    const limits = await this.limitsOf(versions.map((v) => ({ roleId, version: v.version })));
    return toPage(
      versions,
      limit,
      (v) => ({
        roleId,
        version: v.version,
        limits: limits.get(`${roleId}:${v.version}`) ?? [],
        setBy: v.set_by,
        setByName: v.set_by_name,
        setAt: v.set_at.toISOString(),
      }),
      (v) => [String(v.version)],
    );
  }

  /** Role rows (ROLE_COLUMNS) with their current limits. */
  private async views(roles: RoleRow[]): Promise<RoleView[]> {
    const limits = await this.limitsOf(
      roles.map((r) => ({ roleId: r.id as string, version: r.current_limits_version as number })),
    );
    return roles.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      limitsVersion: r.current_limits_version,
      limits: limits.get(`${r.id}:${r.current_limits_version}`) ?? [],
      createdAt: r.created_at.toISOString(),
    }));
  }

  private async limitsOf(keys: Array<{ roleId: string; version: number }>): Promise<Map<string, CurrencyLimits[]>> {
    const result = new Map<string, CurrencyLimits[]>();
    if (keys.length === 0) return result;
    const rows: Array<LimitsRow & { role_id: string; version: number }> = await this.dataSource.query(
      `SELECT l.role_id, l.version, l.currency, l.per_credit, l.per_case, l.per_agent_day, l.per_agent_month
         FROM role_limits l
         JOIN unnest($1::uuid[], $2::int[]) AS k(role_id, version) ON k.role_id = l.role_id AND k.version = l.version
        ORDER BY l.currency`,
      [keys.map((k) => k.roleId), keys.map((k) => k.version)],
    );
    for (const row of rows) {
      const key = `${row.role_id}:${row.version}`;
      const list = result.get(key) ?? [];
      list.push(limitsFromRow(row));
      result.set(key, list);
    }
    return result;
  }
}
