import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Allow, CurrentUser } from '../access/allow.decorator';
import { IssuedTokenView, IssueTokenDto } from '../access/dto/user.dto';
import { Principal } from '../access/principal';
import { expiry } from '../access/token-expiry';
import { ApiProblems } from '../common/openapi';
import { uuidPipe } from '../common/uuid.pipe';
import { ProvisioningTokensService } from './provisioning-tokens.service';
import { ProvisioningTokenListView } from './dto/provisioning-token.dto';

@ApiTags('scim')
@Controller('v1/provisioning-tokens')
export class ProvisioningTokensController {
  constructor(private readonly tokens: ProvisioningTokensService) {}

  @Post()
  @ApiOperation({ summary: 'Issue a provisioning token for an identity provider’s SCIM client (/scim/v2)' })
  @Allow('admin')
  @ApiCreatedResponse({ type: IssuedTokenView, description: 'The token, shown this once' })
  issue(@CurrentUser() me: Principal, @Body() dto: IssueTokenDto): Promise<IssuedTokenView> {
    return this.tokens.issue(me.id, dto.label ?? null, expiry(dto.expiresAt));
  }

  @Get()
  @ApiOperation({ summary: 'List provisioning tokens (never the tokens themselves)' })
  @Allow('admin')
  @ApiOkResponse({ type: ProvisioningTokenListView, description: 'Newest first, revoked ones included' })
  async list(): Promise<ProvisioningTokenListView> {
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    return {
      data: (await this.tokens.list()).map((r) => ({
        id: r.id,
        label: r.label,
        createdAt: r.created_at.toISOString(),
        lastUsedAt: iso(r.last_used_at),
        revokedAt: iso(r.revoked_at),
        expiresAt: iso(r.expires_at),
      })),
    };
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke a provisioning token' })
  @Allow('admin')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Revoked (also when it already was)' })
  @ApiProblems(404)
  async revoke(@CurrentUser() me: Principal, @Param('id', uuidPipe) id: string): Promise<void> {
    await this.tokens.revoke(me.id, id);
  }
}
