import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
} from 'class-validator';
import { ACCESS_LEVELS, AccessLevel } from '../access-level';

const PRINTABLE = /^[^\p{Cc}\p{Cs}]+$/u;

export class CreateUserDto {
  @ApiProperty({ example: 'Sam Rivera' })
  @IsString()
  @Length(1, 200)
  @Matches(PRINTABLE, { message: 'displayName must not contain control characters' })
  displayName!: string;

  @ApiProperty({ enum: ACCESS_LEVELS, isArray: true, example: ['agent'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(5)
  @ArrayUnique()
  @IsIn(ACCESS_LEVELS, { each: true, message: `access must contain only ${ACCESS_LEVELS.join(', ')}` })
  access!: AccessLevel[];

  @ApiPropertyOptional({ format: 'uuid', nullable: true })
  @IsOptional()
  @IsUUID()
  roleId?: string | null;

  @ApiPropertyOptional({ format: 'uuid', nullable: true })
  @IsOptional()
  @IsUUID()
  teamId?: string | null;

  @ApiPropertyOptional({ description: 'Identifier in an HR or staff system', nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(PRINTABLE, { message: 'externalRef must not contain control characters' })
  externalRef?: string | null;
}

export class UpdateUserDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(PRINTABLE, { message: 'displayName must not contain control characters' })
  displayName?: string;

  @ApiPropertyOptional({ enum: ACCESS_LEVELS, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(5)
  @ArrayUnique()
  @IsIn(ACCESS_LEVELS, { each: true, message: `access must contain only ${ACCESS_LEVELS.join(', ')}` })
  access?: AccessLevel[];

  @ApiPropertyOptional({ format: 'uuid', nullable: true, description: 'null removes the job role' })
  @IsOptional()
  @IsUUID()
  roleId?: string | null;

  @ApiPropertyOptional({ format: 'uuid', nullable: true, description: 'null removes the team' })
  @IsOptional()
  @IsUUID()
  teamId?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  externalRef?: string | null;

  @ApiPropertyOptional({ description: 'false deactivates the user; their tokens stop working' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class UserView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ enum: ACCESS_LEVELS, isArray: true }) access!: AccessLevel[];
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) roleId!: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) teamId!: string | null;
  @ApiProperty({ nullable: true, type: String }) externalRef!: string | null;
  @ApiProperty() active!: boolean;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class IssueTokenDto {
  @ApiPropertyOptional({ example: 'desk terminal 4' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  label?: string;
}

export class IssuedTokenView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'Shown once; only its hash is stored' }) token!: string;
}

export class NamedRef {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
}

export class MeView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ enum: ACCESS_LEVELS, isArray: true }) access!: AccessLevel[];
  @ApiProperty({ type: NamedRef, nullable: true }) role!: NamedRef | null;
  @ApiProperty({ type: NamedRef, nullable: true }) team!: NamedRef | null;
}
