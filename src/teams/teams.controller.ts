import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import { Allow, CurrentUser } from '../access/allow.decorator';
import { Principal } from '../access/principal';
import { PageQueryDto } from '../common/pagination';
import { TeamsService } from './teams.service';

export class CreateTeamDto {
  @ApiProperty({ example: 'Returns desk' })
  @IsString()
  @Length(1, 120)
  @Matches(/^[^\p{Cc}\p{Cs}]+$/u, { message: 'name must not contain control characters' })
  name!: string;
}

export class TeamView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() createdAt!: string;
}

@ApiTags('teams')
@ApiBearerAuth()
@Controller('v1/teams')
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Post()
  @Allow('admin', 'leader')
  @ApiCreatedResponse({ type: TeamView })
  create(@CurrentUser() me: Principal, @Body() dto: CreateTeamDto): Promise<TeamView> {
    return this.teams.create(me, dto.name);
  }

  @Get()
  @Allow()
  list(@Query() q: PageQueryDto) {
    return this.teams.list(q.limit ?? 50, q.cursor);
  }
}
