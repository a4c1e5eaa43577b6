import { Body, Controller, Get, Param, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Allow, CurrentUser } from '../access/allow.decorator';
import { Principal } from '../access/principal';
import { ApiPage, ApiProblems } from '../common/openapi';
import { PageQueryDto } from '../common/pagination';
import { uuidPipe } from '../common/uuid.pipe';
import { CreateRoleDto, LimitsVersionView, RoleView } from './dto/role.dto';
import { SetLimitsDto } from './dto/limits.dto';
import { RolesService } from './roles.service';

@ApiTags('roles')
@Controller('v1/roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Post()
  @ApiOperation({ summary: 'Create a job role' })
  @Allow('leader', 'admin')
  @ApiCreatedResponse({ type: RoleView, description: 'The new job role, without limits (version 0)' })
  @ApiProblems(409)
  create(@CurrentUser() me: Principal, @Body() dto: CreateRoleDto): Promise<RoleView> {
    return this.roles.create(me, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List job roles with their current limits' })
  @Allow()
  @ApiPage(RoleView)
  list(@Query() q: PageQueryDto) {
    return this.roles.list(q.limit ?? 50, q.cursor);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a job role with its current limits' })
  @Allow()
  @ApiOkResponse({ type: RoleView, description: 'The job role with its current limits' })
  @ApiProblems(404)
  get(@Param('id', uuidPipe) id: string): Promise<RoleView> {
    return this.roles.get(id);
  }

  @Get(':id/limits')
  @ApiOperation({ summary: "Read a job role's current limits version" })
  @Allow('leader', 'finance', 'admin')
  @ApiOkResponse({
    type: LimitsVersionView,
    description: 'The current limits version; version 0 with no limits (and null setBy, setAt) if none was ever set',
  })
  @ApiProblems(404)
  limits(@Param('id', uuidPipe) id: string): Promise<LimitsVersionView> {
    return this.roles.currentLimits(id);
  }

  @Put(':id/limits')
  @ApiOperation({ summary: "Set a job role's limits (a new version)" })
  @Allow('leader')
  @ApiOkResponse({ type: LimitsVersionView, description: 'The new limits version' })
  @ApiProblems(404)
  setLimits(
    @CurrentUser() me: Principal,
    @Param('id', uuidPipe) id: string,
    @Body() dto: SetLimitsDto,
  ): Promise<LimitsVersionView> {
    return this.roles.setLimits(me, id, dto);
  }

  @Get(':id/limits/history')
  @ApiOperation({ summary: 'Every limits version of a job role, newest first' })
  @Allow('leader', 'finance')
  @ApiPage(LimitsVersionView)
  @ApiProblems(404)
  history(@Param('id', uuidPipe) id: string, @Query() q: PageQueryDto) {
    return this.roles.history(id, q.limit ?? 50, q.cursor);
  }
}
