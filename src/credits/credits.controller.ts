import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';

import type { FastifyReply, FastifyRequest } from 'fastify';
import { Allow, CurrentUser } from '../access/allow.decorator';
import { Principal } from '../access/principal';
import { DomainError } from '../common/domain-error';

import { ApiPage, ApiProblems } from '../common/openapi';
import { uuidPipe } from '../common/uuid.pipe';
import { CreditsService } from './credits.service';
import { IDEMPOTENCY_KEY } from './idempotency-key';
import { CreateCreditDto, ReverseCreditDto } from './dto/create-credit.dto';
import { CreditView, HeadroomListView, IntegrationCreditView, LoggedCreditView } from './dto/credit-view.dto';
import { ListCreditsDto } from './dto/list-credits.dto';
import { HeadroomService } from './headroom.service';
import { HeadroomQueryDto } from './dto/headroom-query.dto';

@ApiTags('credits')
@Controller('v1')
export class CreditsController {
  constructor(
    private readonly credits: CreditsService,
    private readonly headroom: HeadroomService,
  ) {}

  @Post('credits')
  @ApiOperation({
    summary: 'Log a credit (idempotent)',
    description:
      'An agent logs their own credit. An integration logs one for the active agent named by `agentRef`, ' +
      "with its own id for the credit as the Idempotency-Key; the split is the agent's, and the answer " +
      'leaves the split and the headroom out.',
  })
  @Allow('agent', 'integration')
  @ApiHeader({
    name: 'Idempotency-Key',
    required: true,
    description: 'Unique per intended credit: 1 to 255 visible ASCII characters',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: IDEMPOTENCY_KEY.source },
  })
  @ApiExtraModels(LoggedCreditView, IntegrationCreditView)
  @ApiCreatedResponse({
    schema: { oneOf: [{ $ref: getSchemaPath(LoggedCreditView) }, { $ref: getSchemaPath(IntegrationCreditView) }] },
    description:
      'For an agent, the credit and the headroom after it; for an integration, the credit and its source. ' +
      'A replay answers the first response again',
    headers: {
      Location: { description: 'The credit', schema: { type: 'string' } },
      'Idempotent-Replayed': { description: '`true` on a replay', schema: { type: 'string', enum: ['true'] } },
    },
  })
  @ApiProblems(409, 422)
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
    if (!IDEMPOTENCY_KEY.test(key)) {
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
  @ApiOperation({ summary: 'List credits' })
  @Allow('agent', 'auditor')
  @ApiPage(CreditView)
  list(@CurrentUser() me: Principal, @Query() q: ListCreditsDto) {
    return this.credits.list(me, q);
  }

  @Get('credits/:id')
  @ApiOperation({ summary: 'Read a credit' })
  @Allow('agent', 'auditor')
  @ApiOkResponse({
    type: CreditView,
    description: 'The credit (an agent’s own; any for auditors, recorded in the audit log)',
  })
  @ApiProblems(404)
  get(@CurrentUser() me: Principal, @Param('id', uuidPipe) id: string): Promise<CreditView> {
    return this.credits.get(me, id);
  }

  @Post('credits/:id/reversal')
  @ApiOperation({ summary: 'Reverse a credit' })
  @Allow('agent', 'finance')
  @HttpCode(201)
  @ApiCreatedResponse({ type: CreditView, description: 'The credit with its reversal' })
  @ApiProblems(404, 409)
  reverse(
    @CurrentUser() me: Principal,
    @Param('id', uuidPipe) id: string,
    @Body() dto: ReverseCreditDto,
  ): Promise<CreditView> {
    return this.credits.reverse(me, id, dto);
  }

  @Get('me/headroom')
  @ApiOperation({ summary: "The caller's headroom per currency" })
  @Allow('agent')
  @ApiOkResponse({ type: HeadroomListView, description: 'Per currency the agent has limits or spending in' })
  myHeadroom(@CurrentUser() me: Principal, @Query() q: HeadroomQueryDto) {
    return this.headroom.forAgent(me, q.currency, q.caseRef);
  }
}
