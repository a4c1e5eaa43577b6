import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';
import { Allow, CurrentUser } from '../access/allow.decorator';
import { Principal } from '../access/principal';
import { DomainError } from '../common/domain-error';
import { CreateReasonDto, UpdateReasonDto } from './dto/reason.dto';
import { ReasonsService } from './reasons.service';

export class ReasonQueryDto {
  @ApiPropertyOptional({ description: 'Include retired reasons' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  all?: boolean;
}

@ApiTags('reasons')
@ApiBearerAuth()
@Controller('v1/reasons')
export class ReasonsController {
  constructor(private readonly reasons: ReasonsService) {}

  @Get()
  @Allow()
  list(@Query() q: ReasonQueryDto) {
    return this.reasons.list(q.all ?? false);
  }

  @Post()
  @Allow('leader', 'admin')
  create(@CurrentUser() me: Principal, @Body() dto: CreateReasonDto) {
    return this.reasons.create(me, dto);
  }

  @Patch(':code')
  @Allow('leader', 'admin')
  update(@CurrentUser() me: Principal, @Param('code') code: string, @Body() dto: UpdateReasonDto) {
    if (!/^[a-z][a-z0-9_]{1,49}$/.test(code)) throw new DomainError('NOT_FOUND', 'No such reason.');
    return this.reasons.update(me, code, dto);
  }
}
