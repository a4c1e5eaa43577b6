import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { PageQueryDto } from '../common/pagination';
import { Allow, CurrentUser } from './allow.decorator';
import { CreateUserDto, IssuedTokenView, IssueTokenDto, MeView, UpdateUserDto, UserView } from './dto/user.dto';
import { Principal } from './principal';
import { TokensService } from './tokens.service';
import { UsersService } from './users.service';
import { uuidPipe } from '../common/uuid.pipe';

@ApiTags('access')
@ApiBearerAuth()
@Controller('v1')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokensService,
  ) {}

  @Get('me')
  @Allow()
  @ApiOkResponse({ type: MeView })
  me(@CurrentUser() me: Principal): Promise<MeView> {
    return this.users.me(me);
  }

  @Post('users')
  @Allow('admin')
  @ApiCreatedResponse({ type: UserView })
  create(@CurrentUser() me: Principal, @Body() dto: CreateUserDto): Promise<UserView> {
    return this.users.create(me, dto);
  }

  @Get('users')
  @Allow('admin')
  list(@Query() q: PageQueryDto) {
    return this.users.list(q.limit ?? 50, q.cursor);
  }

  @Patch('users/:id')
  @Allow('admin')
  @ApiOkResponse({ type: UserView })
  update(
    @CurrentUser() me: Principal,
    @Param('id', uuidPipe) id: string,
    @Body() dto: UpdateUserDto,
  ): Promise<UserView> {
    return this.users.update(me, id, dto);
  }

  @Post('users/:id/tokens')
  @Allow('admin')
  @ApiCreatedResponse({ type: IssuedTokenView })
  issue(
    @CurrentUser() me: Principal,
    @Param('id', uuidPipe) id: string,
    @Body() dto: IssueTokenDto,
  ): Promise<IssuedTokenView> {
    return this.tokens.issue(me.id, id, dto.label ?? null);
  }

  @Delete('tokens/:id')
  @Allow('admin')
  @HttpCode(204)
  async revoke(@CurrentUser() me: Principal, @Param('id', uuidPipe) id: string): Promise<void> {
    await this.tokens.revoke(me.id, id);
  }
}
