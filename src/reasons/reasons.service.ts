import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '../access/principal';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';
import { conflictOn } from '../common/pg-errors';
import { CreateReasonDto, UpdateReasonDto } from './dto/reason.dto';

export interface ReasonView {
  code: string;
  label: string;
  active: boolean;
}

@Injectable()
export class ReasonsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async list(includeRetired: boolean): Promise<{ data: ReasonView[]; nextCursor: null }> {
    const rows: ReasonView[] = await this.dataSource.query(
      `SELECT code, label, active FROM reasons WHERE active OR $1 ORDER BY code`,
      [includeRetired],
    );
    // The catalogue is small by nature; it always fits one page.
    return { data: rows, nextCursor: null };
  }

  async create(actor: Principal, dto: CreateReasonDto): Promise<ReasonView> {
    return conflictOn('reasons_pk', 'code', 'A reason with this code exists.', () =>
      this.dataSource.transaction(async (m) => {
        await m.query(`INSERT INTO reasons (code, label) VALUES ($1, $2)`, [dto.code, dto.label]);
        await this.audit.record(m, {
          actorId: actor.id,
          action: 'reason.created',
          subjectType: 'reason',
          subjectId: dto.code,
          details: { label: dto.label },
        });
        return { code: dto.code, label: dto.label, active: true };
      }),
    );
  }

  async update(actor: Principal, code: string, dto: UpdateReasonDto): Promise<ReasonView> {
    return this.dataSource.transaction(async (m) => {
      const rows: ReasonView[] = await m.query(
        `WITH changed AS (UPDATE reasons SET label = coalesce($2, label), active = coalesce($3, active) WHERE code = $1
                          RETURNING code, label, active)
         SELECT * FROM changed`,
        [code, dto.label ?? null, dto.active ?? null],
      );
      if (rows.length === 0) throw new DomainError('NOT_FOUND', 'No such reason.');
      await this.audit.record(m, {
        actorId: actor.id,
        action: 'reason.changed',
        subjectType: 'reason',
        subjectId: code,
        details: { ...dto },
      });
      return rows[0];
    });
  }
}
