import { Body, Controller, Get, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Allow, CurrentUser } from '../access/allow.decorator';
import { Principal } from '../access/principal';
import { PageQueryDto } from '../common/pagination';
import { uuidPipe } from '../common/uuid.pipe';
import { CreateRoleDto } from './dto/role.dto';
import { SetLimitsDto } from './dto/limits.dto';
import { RolesService } from './roles.service';

@ApiTags('roles')
@ApiBearerAuth()
@Controller('v1/roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Post()
  @Allow('leader', 'admin')
  create(@CurrentUser() me: Principal, @Body() dto: CreateRoleDto) {
    return this.roles.create(me, dto);
  }

  @Get()
  @Allow()
  list(@Query() q: PageQueryDto) {
    return this.roles.list(q.limit ?? 50, q.cursor);
  }

  @Put(':id/limits')
  @Allow('leader')
  setLimits(@CurrentUser() me: Principal, @Param('id', uuidPipe) id: string, @Body() dto: SetLimitsDto) {
    return this.roles.setLimits(me, id, dto);
  }

  @Get(':id/limits/history')
  @Allow('leader', 'finance')
  history(@Param('id', uuidPipe) id: string, @Query() q: PageQueryDto) {
    return this.roles.history(id, q.limit ?? 50, q.cursor);
  }
}
