import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { Allow, CurrentUser } from '../access/allow.decorator';
import { Principal } from '../access/principal';
import { ApiPage, ApiProblems } from '../common/openapi';
import { PageQueryDto } from '../common/pagination';
import { TeamsService } from './teams.service';
import { CreateTeamDto, TeamView } from './dto/team.dto';

@ApiTags('teams')
@Controller('v1/teams')
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a team' })
  @Allow('admin', 'leader')
  @ApiCreatedResponse({ type: TeamView, description: 'The new team' })
  @ApiProblems(409)
  create(@CurrentUser() me: Principal, @Body() dto: CreateTeamDto): Promise<TeamView> {
    return this.teams.create(me, dto.name);
  }

  @Get()
  @ApiOperation({ summary: 'List teams' })
  @Allow()
  @ApiPage(TeamView)
  list(@Query() q: PageQueryDto) {
    return this.teams.list(q.limit ?? 50, q.cursor);
  }
}
