import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '../access/principal';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { duplicateOf } from '../common/pg-errors';
import { Team } from './team.entity';
import type { TeamView } from './dto/team.dto';

const view = (t: Team): TeamView => ({ id: t.id, name: t.name, createdAt: t.createdAt.toISOString() });

@Injectable()
export class TeamsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async create(actor: Principal, name: string): Promise<TeamView> {
    try {
      return await this.dataSource.transaction(async (m) => {
        const team = await m.save(m.create(Team, { name: name.trim() }));
        await this.audit.record(m, {
          actorId: actor.id,
          action: 'team.created',
          subjectType: 'team',
          subjectId: team.id,
          details: { name: team.name },
        });
        return view(team);
      });
    } catch (error) {
      if (duplicateOf(error) === 'teams_name_uq') {
        throw new DomainError('CONFLICT', 'A team with this name exists.', [
          { field: 'name', message: 'is already in use' },
        ]);
      }
      throw error;
    }
  }

  async list(limit: number, cursor?: string): Promise<Page<TeamView>> {
    const after = decodeCursor(cursor, 2);
    const qb = this.dataSource
      .getRepository(Team)
      .createQueryBuilder('t')
      .orderBy('t.name')
      .addOrderBy('t.id')
      .limit(limit + 1);
    if (after) qb.where('(t.name, t.id) > (:name, :id::uuid)', { name: after[0], id: after[1] });
    const rows = await qb.getMany();
    return toPage(rows, limit, view, (t) => [t.name, t.id]);
  }
}
