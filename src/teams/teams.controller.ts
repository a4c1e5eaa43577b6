import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import { Allow, CurrentUser } from '../access/allow.decorator';
import { Principal } from '../access/principal';
import { ApiId, ApiInstant, ApiPage, ApiProblems } from '../common/openapi';
import { PageQueryDto } from '../common/pagination';
import { TeamsService } from './teams.service';

export class CreateTeamDto {
  @ApiProperty({ example: 'Returns desk', minLength: 1, maxLength: 120, description: 'Unique; no control characters' })
  @IsString()
  @Length(1, 120)
  @Matches(/^[^\p{Cc}\p{Cs}]+$/u, { message: 'name must not contain control characters' })
  name!: string;
}

export class TeamView {
  @ApiId() id!: string;
  @ApiProperty() name!: string;
  @ApiInstant() createdAt!: string;
}

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
