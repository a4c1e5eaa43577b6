import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Allow, CurrentUser } from '../access/allow.decorator';
import { Principal } from '../access/principal';
import { DomainError } from '../common/domain-error';
import { IsCurrency } from '../common/money';
import { uuidPipe } from '../common/uuid.pipe';
import { CreditsService } from './credits.service';
import { CreateCreditDto, ReverseCreditDto } from './dto/create-credit.dto';
import { ListCreditsDto } from './dto/list-credits.dto';
import { HeadroomService } from './headroom.service';

export class HeadroomQueryDto {
  @ApiPropertyOptional({ example: 'EUR' })
  @IsOptional()
  @IsCurrency()
  currency?: string;

  @ApiPropertyOptional({ example: 'CASE-48213' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  caseRef?: string;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

@ApiTags('credits')
@ApiBearerAuth()
@Controller('v1')
export class CreditsController {
  constructor(
    private readonly credits: CreditsService,
    private readonly headroom: HeadroomService,
  ) {}

  @Post('credits')
  @Allow('agent')
  @ApiHeader({
    name: 'Idempotency-Key',
    required: true,
    description: 'Unique per intended credit, at most 255 characters',
  })
  async create(
    @CurrentUser() me: Principal,
    @Headers('idempotency-key') key: string | undefined,
    @Body() dto: CreateCreditDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    if (key === undefined || key === '') {
      throw DomainError.validation('Idempotency-Key', 'header is required: send a unique key per intended credit');
    }
    if (!KEY.test(key)) {
      throw DomainError.validation('Idempotency-Key', 'must be 1 to 255 visible ASCII characters');
    }
    const result = await this.credits.create(me, key, request.body, dto);
    reply
      .status(result.status)
      .header('content-type', 'application/json; charset=utf-8')
      .header('location', `/v1/credits/${result.creditId}`);
    if (result.replayed) reply.header('idempotent-replayed', 'true');
    return result.body;
  }

  @Get('credits')
  @Allow('agent', 'auditor')
  list(@CurrentUser() me: Principal, @Query() q: ListCreditsDto) {
    return this.credits.list(me, q);
  }

  @Get('credits/:id')
  @Allow('agent', 'auditor')
  get(@CurrentUser() me: Principal, @Param('id', uuidPipe) id: string) {
    return this.credits.get(me, id);
  }

  @Post('credits/:id/reversal')
  @Allow('agent', 'finance')
  @HttpCode(201)
  reverse(@CurrentUser() me: Principal, @Param('id', uuidPipe) id: string, @Body() dto: ReverseCreditDto) {
    return this.credits.reverse(me, id, dto);
  }

  @Get('me/headroom')
  @Allow('agent')
  myHeadroom(@CurrentUser() me: Principal, @Query() q: HeadroomQueryDto) {
    return this.headroom.forAgent(me, q.currency, q.caseRef);
  }
}
