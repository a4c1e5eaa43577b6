import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Allow, CurrentUser } from '../access/allow.decorator';
import { Principal } from '../access/principal';
import { ApiPage, ApiProblems } from '../common/openapi';
import { PageQueryDto } from '../common/pagination';
import { uuidPipe } from '../common/uuid.pipe';
import {
  CreatedWebhookView,
  CreateWebhookDto,
  DeliveryView,
  ReplayDto,
  UpdateWebhookDto,
  WebhookView,
} from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({ summary: 'Register a webhook endpoint (its signing secret is shown once)' })
  @Allow('admin')
  @ApiCreatedResponse({ type: CreatedWebhookView, description: 'The endpoint and its secret, shown this once' })
  create(@CurrentUser() me: Principal, @Body() dto: CreateWebhookDto): Promise<CreatedWebhookView> {
    return this.webhooks.create(me, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List webhook endpoints (never their secrets)' })
  @Allow('admin')
  @ApiPage(WebhookView)
  list() {
    return this.webhooks.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a webhook endpoint' })
  @Allow('admin')
  @ApiOkResponse({ type: WebhookView, description: 'The endpoint' })
  @ApiProblems(404)
  get(@Param('id', uuidPipe) id: string): Promise<WebhookView> {
    return this.webhooks.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a webhook endpoint: URL, event types, active, includeAgentRef' })
  @Allow('admin')
  @ApiOkResponse({ type: WebhookView, description: 'The endpoint as changed' })
  @ApiProblems(404)
  update(
    @CurrentUser() me: Principal,
    @Param('id', uuidPipe) id: string,
    @Body() dto: UpdateWebhookDto,
  ): Promise<WebhookView> {
    return this.webhooks.update(me, id, dto);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Remove a webhook endpoint (its delivery log stays)' })
  @Allow('admin')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiProblems(404)
  async remove(@CurrentUser() me: Principal, @Param('id', uuidPipe) id: string): Promise<void> {
    await this.webhooks.remove(me, id);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: 'The delivery log of an endpoint, newest first, with every attempt' })
  @Allow('admin')
  @ApiPage(DeliveryView)
  @ApiProblems(404)
  deliveries(@Param('id', uuidPipe) id: string, @Query() q: PageQueryDto) {
    return this.webhooks.deliveries(id, q.limit ?? 50, q.cursor);
  }

  @Post(':id/replays')
  @ApiOperation({ summary: 'Send an event to the endpoint again' })
  @Allow('admin')
  @ApiCreatedResponse({ type: DeliveryView, description: 'The new delivery, due at once' })
  @ApiProblems(404)
  replay(
    @CurrentUser() me: Principal,
    @Param('id', uuidPipe) id: string,
    @Body() dto: ReplayDto,
  ): Promise<DeliveryView> {
    return this.webhooks.replay(me, id, dto.eventId);
  }
}
