import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '../access/principal';
import { AuditService } from '../audit/audit.service';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { conflictOn } from '../common/pg-errors';
import type { TeamView } from './dto/team.dto';

interface TeamRow {
  id: string;
  name: string;
  created_at: Date;
}

const view = (t: TeamRow): TeamView => ({ id: t.id, name: t.name, createdAt: t.created_at.toISOString() });

@Injectable()
export class TeamsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async create(actor: Principal, name: string): Promise<TeamView> {
    return conflictOn('teams_name_uq', 'name', 'A team with this name exists.', () =>
      this.dataSource.transaction(async (m) => {
        const [team]: TeamRow[] = await m.query(`INSERT INTO teams (name) VALUES ($1) RETURNING id, name, created_at`, [
          name.trim(),
        ]);
        await this.audit.record(m, {
          actorId: actor.id,
          action: 'team.created',
          subjectType: 'team',
          subjectId: team.id,
          details: { name: team.name },
        });
        return view(team);
      }),
    );
  }

  async list(limit: number, cursor?: string): Promise<Page<TeamView>> {
    const after = decodeCursor(cursor, 2);
    const rows: TeamRow[] = await this.dataSource.query(
      `SELECT id, name, created_at FROM teams
        WHERE $1::text IS NULL OR (name, id) > ($1, $2::uuid)
        ORDER BY name, id LIMIT $3`,
      [after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    );
    return toPage(rows, limit, view, (t) => [t.name, t.id]);
  }
}
