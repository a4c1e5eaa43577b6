import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
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
import { IsOmittable } from '../../common/omittable';
import { ApiId, ApiInstant } from '../../common/openapi';
import { ACCESS_LEVELS, AccessLevel } from '../access-level';

const PRINTABLE = /^[^\p{Cc}\p{Cs}]+$/u;

const DISPLAY_NAME = { minLength: 1, maxLength: 200, description: 'No control characters' } as const;
const ACCESS = { enum: ACCESS_LEVELS, isArray: true, minItems: 1, maxItems: 5, uniqueItems: true } as const;
/** One to five distinct access levels. */
const IsAccessList = () =>
  applyDecorators(
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(5),
    ArrayUnique(),
    IsIn(ACCESS_LEVELS, { each: true, message: `access must contain only ${ACCESS_LEVELS.join(', ')}` }),
  );

const EXTERNAL_REF = {
  type: String,
  nullable: true,
  minLength: 1,
  maxLength: 200,
  description: 'Identifier in an HR or staff system (unique); null for none',
} as const;

export class CreateUserDto {
  @ApiProperty({ ...DISPLAY_NAME, example: 'Sam Rivera' })
  @IsString()
  @Length(1, 200)
  @Matches(PRINTABLE, { message: 'displayName must not contain control characters' })
  displayName!: string;

  @ApiProperty({ ...ACCESS, example: ['agent'] })
  @IsAccessList()
  access!: AccessLevel[];

  @ApiId({ required: false, nullable: true, description: 'The job role; null for none (on PATCH: removes it)' })
  @IsOptional()
  @IsUUID()
  roleId?: string | null;

  @ApiId({ required: false, nullable: true, description: 'The team; null for none (on PATCH: removes it)' })
  @IsOptional()
  @IsUUID()
  teamId?: string | null;

  @ApiPropertyOptional(EXTERNAL_REF)
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(PRINTABLE, { message: 'externalRef must not contain control characters' })
  externalRef?: string | null;
}

/** Every field may be left out; only roleId, teamId and externalRef may be null (to clear them). */
export class UpdateUserDto extends PickType(CreateUserDto, ['roleId', 'teamId', 'externalRef'] as const) {
  @ApiPropertyOptional(DISPLAY_NAME)
  @IsOmittable()
  @IsString()
  @Length(1, 200)
  @Matches(PRINTABLE, { message: 'displayName must not contain control characters' })
  displayName?: string;

  @ApiPropertyOptional(ACCESS)
  @IsOmittable()
  @IsAccessList()
  access?: AccessLevel[];

  @ApiPropertyOptional({ description: 'false deactivates the user; their tokens stop working' })
  @IsOmittable()
  @IsBoolean()
  active?: boolean;
}

export class UserView {
  @ApiId() id!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ enum: ACCESS_LEVELS, isArray: true }) access!: AccessLevel[];
  @ApiId({ nullable: true }) roleId!: string | null;
  @ApiId({ nullable: true }) teamId!: string | null;
  @ApiProperty({ nullable: true, type: String }) externalRef!: string | null;
  @ApiProperty() active!: boolean;
  @ApiInstant() createdAt!: string;
  @ApiInstant() updatedAt!: string;
}

export class IssueTokenDto {
  @ApiPropertyOptional({ example: 'desk terminal 4', minLength: 1, maxLength: 200 })
  @IsOmittable()
  @IsString()
  @Length(1, 200)
  label?: string;
}

export class IssuedTokenView {
  @ApiId() id!: string;
  @ApiProperty({ description: 'Shown once; only its hash is stored' }) token!: string;
}

export class NamedRef {
  @ApiId() id!: string;
  @ApiProperty() name!: string;
}

export class MeView {
  @ApiId() id!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ enum: ACCESS_LEVELS, isArray: true }) access!: AccessLevel[];
  @ApiProperty({ type: NamedRef, nullable: true }) role!: NamedRef | null;
  @ApiProperty({ type: NamedRef, nullable: true }) team!: NamedRef | null;
}
