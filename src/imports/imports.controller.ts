import { Controller, HttpCode, Post, Query, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { Allow, CurrentUser } from '../access/allow.decorator';
import { Principal } from '../access/principal';
import { DomainError } from '../common/domain-error';
import { ApiProblems, problemResponse } from '../common/openapi';
import { MAX_FILE_BYTES, OPTIONAL_COLUMNS, REQUIRED_COLUMNS } from './csv-rows';
import { ImportQueryDto, ImportResultView } from './dto/import.dto';
import { ImportsService } from './imports.service';

export const IMPORTS_PATH = '/v1/imports';

@ApiTags('imports')
@Controller('v1')
export class ImportsController {
  constructor(private readonly imports: ImportsService) {}

  @Post('imports')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Import historical credits from a CSV file (all or nothing)',
    description:
      `A header line naming the columns ${REQUIRED_COLUMNS.join(', ')} (and optionally ` +
      `${OPTIONAL_COLUMNS.join(', ')}), then one credit per line, each checked as POST /v1/credits checks ` +
      'a body (amount in minor units; occurredAt any time since 2000 with a UTC offset). The externalId ' +
      "is the credit's id in the source system, unique within the integration: a second import of the " +
      'same file changes nothing. Every problem is reported with its line, and nothing is written unless ' +
      `the whole file is valid. At most ${MAX_FILE_BYTES / 1024 / 1024} MiB. Imported credits send no webhook events.`,
  })
  @Allow('integration', 'admin')
  @ApiConsumes('text/csv')
  @ApiBody({
    required: true,
    schema: {
      type: 'string',
      example:
        'externalId,agentRef,amount,currency,kind,reasonCode,caseRef,occurredAt\n' +
        'refund-1001,agent-1042,2500,EUR,refund,late_delivery,CASE-48213,2026-03-02T10:15:00Z\n',
    },
  })
  @ApiOkResponse({ type: ImportResultView, description: 'Imported (or, for a file imported before, unchanged)' })
  @ApiProblems(409)
  @ApiResponse({
    status: 422,
    ...problemResponse(422, 'Rows with problems, each with its line (the first 1,000); nothing was written'),
  })
  run(
    @CurrentUser() me: Principal,
    @Query() q: ImportQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<ImportResultView> {
    if (!(request.body instanceof Readable)) {
      throw new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the file as the request body with Content-Type: text/csv.');
    }
    return this.imports.run(me, q.integrationId, request.body);
  }
}
