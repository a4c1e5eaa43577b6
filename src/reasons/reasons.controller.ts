import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { ACCESS_LEVELS } from '../access/access-level';
import { Allow, CurrentUser } from '../access/allow.decorator';
import { Principal } from '../access/principal';
import { DomainError } from '../common/domain-error';
import { ApiProblems } from '../common/openapi';
import { REASON_CODE } from '../common/validators';
import { CreateReasonDto, ReasonListView, ReasonView, UpdateReasonDto } from './dto/reason.dto';
import { ReasonsService } from './reasons.service';
import { ReasonQueryDto } from './dto/reason-query.dto';

@ApiTags('reasons')
@Controller('v1/reasons')
export class ReasonsController {
  constructor(private readonly reasons: ReasonsService) {}

  @Get()
  @ApiOperation({ summary: 'The reason catalogue' })
  @Allow(...ACCESS_LEVELS)
  @ApiOkResponse({ type: ReasonListView, description: 'The reason catalogue, by code' })
  list(@Query() q: ReasonQueryDto): Promise<ReasonListView> {
    return this.reasons.list(q.all ?? false);
  }

  @Post()
  @ApiOperation({ summary: 'Add a reason' })
  @Allow('leader', 'admin')
  @ApiCreatedResponse({ type: ReasonView, description: 'The new reason' })
  @ApiProblems(409)
  create(@CurrentUser() me: Principal, @Body() dto: CreateReasonDto): Promise<ReasonView> {
    return this.reasons.create(me, dto);
  }

  @Patch(':code')
  @ApiOperation({ summary: 'Relabel or retire a reason' })
  @Allow('leader', 'admin')
  @ApiOkResponse({ type: ReasonView, description: 'The reason as changed' })
  @ApiProblems(404)
  update(@CurrentUser() me: Principal, @Param('code') code: string, @Body() dto: UpdateReasonDto): Promise<ReasonView> {
    if (!REASON_CODE.test(code)) throw new DomainError('NOT_FOUND', 'No such reason.');
    return this.reasons.update(me, code, dto);
  }
}
