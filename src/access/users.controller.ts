import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageQueryDto } from '../common/pagination';
import { ApiPage, ApiProblems } from '../common/openapi';
import { uuidPipe } from '../common/uuid.pipe';
import { ACCESS_LEVELS } from './access-level';
import { Allow, CurrentUser } from './allow.decorator';
import { DomainError } from '../common/domain-error';
import {
  CreateUserDto,
  IssuedTokenView,
  IssueTokenDto,
  MeView,
  SessionListView,
  TokenListView,
  UpdateUserDto,
  UserView,
} from './dto/user.dto';
import { expiry } from './token-expiry';
import { tokenView } from './token-view';
import { Principal } from './principal';
import { TokensService } from './tokens.service';
import { UsersService } from './users.service';

@ApiTags('access')
@Controller('v1')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokensService,
  ) {}

  @Get('me')
  @ApiOperation({ summary: 'The caller: name, access levels, job role and team' })
  @Allow(...ACCESS_LEVELS)
  @ApiOkResponse({ type: MeView, description: 'The caller' })
  me(@CurrentUser() me: Principal): Promise<MeView> {
    return this.users.me(me);
  }

  @Post('users')
  @ApiOperation({ summary: 'Create a user' })
  @Allow('admin')
  @ApiCreatedResponse({ type: UserView, description: 'The new user' })
  @ApiProblems(409)
  create(@CurrentUser() me: Principal, @Body() dto: CreateUserDto): Promise<UserView> {
    return this.users.create(me, dto);
  }

  @Get('users')
  @ApiOperation({ summary: 'List users' })
  @Allow('admin')
  @ApiPage(UserView)
  list(@Query() q: PageQueryDto) {
    return this.users.list(q.limit ?? 50, q.cursor);
  }

  @Get('users/:id')
  @ApiOperation({ summary: 'Read a user' })
  @Allow('admin')
  @ApiOkResponse({ type: UserView, description: 'The user' })
  @ApiProblems(404)
  get(@Param('id', uuidPipe) id: string): Promise<UserView> {
    return this.users.get(id);
  }

  @Patch('users/:id')
  @ApiOperation({ summary: 'Change or deactivate a user' })
  @Allow('admin')
  @ApiOkResponse({ type: UserView, description: 'The user as changed' })
  @ApiProblems(404, [
    409,
    'Another user has this externalRef, or the change would leave no active admin (deactivating the last one or taking their admin access)',
  ])
  update(
    @CurrentUser() me: Principal,
    @Param('id', uuidPipe) id: string,
    @Body() dto: UpdateUserDto,
  ): Promise<UserView> {
    return this.users.update(me, id, dto);
  }

  @Post('users/:id/tokens')
  @ApiOperation({ summary: 'Issue an API token for a user' })
  @Allow('admin')
  @ApiCreatedResponse({ type: IssuedTokenView, description: 'The token, shown this once' })
  @ApiProblems(404, 409)
  issue(
    @CurrentUser() me: Principal,
    @Param('id', uuidPipe) id: string,
    @Body() dto: IssueTokenDto,
  ): Promise<IssuedTokenView> {
    return this.tokens.issue(me.id, id, dto.label ?? null, expiry(dto.expiresAt));
  }

  @Get('users/:id/tokens')
  @ApiOperation({ summary: "A user's API tokens and sessions, newest first (never the tokens themselves)" })
  @Allow('admin')
  @ApiOkResponse({ type: TokenListView, description: 'Up to 500, revoked and expired ones included' })
  @ApiProblems(404)
  async tokensOf(@Param('id', uuidPipe) id: string): Promise<TokenListView> {
    if (!(await this.tokens.userExists(id))) throw new DomainError('NOT_FOUND', 'No such user.');
    const now = new Date();
    return { data: (await this.tokens.list(id)).map((row) => tokenView(row, now)) };
  }

  @Get('me/sessions')
  @ApiOperation({ summary: "The caller's sign-in sessions, newest first" })
  @Allow()
  @ApiOkResponse({ type: SessionListView, description: 'Up to 500, ended ones included' })
  async sessions(@CurrentUser() me: Principal): Promise<SessionListView> {
    const now = new Date();
    return {
      data: (await this.tokens.list(me.id, 'session')).map((row) => ({
        ...tokenView(row, now),
        current: row.id === me.tokenId,
      })),
    };
  }

  @Delete('me/sessions/:id')
  @ApiOperation({ summary: 'End one of the caller’s sessions (signing out, when it is the current one)' })
  @Allow()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Ended (also when it already was)' })
  @ApiProblems(404)
  async endSession(@CurrentUser() me: Principal, @Param('id', uuidPipe) id: string): Promise<void> {
    await this.tokens.revoke(me.id, id, me.id, 'session');
  }

  @Delete('tokens/:id')
  @ApiOperation({ summary: 'Revoke an API token or end a session' })
  @Allow('admin')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Revoked (also when it already was)' })
  @ApiProblems(404)
  async revoke(@CurrentUser() me: Principal, @Param('id', uuidPipe) id: string): Promise<void> {
    await this.tokens.revoke(me.id, id);
  }
}
