import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { ApiId, ApiInstant } from '../../common/openapi';
import { NoControlCharacters } from '../../common/validators';

export class CreateTeamDto {
  @ApiProperty({ example: 'Returns desk', minLength: 1, maxLength: 120, description: 'Unique; no control characters' })
  @IsString()
  @Length(1, 120)
  @NoControlCharacters()
  name!: string;
}

export class TeamView {
  @ApiId() id!: string;
  @ApiProperty() name!: string;
  @ApiInstant() createdAt!: string;
}
