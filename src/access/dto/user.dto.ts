import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  ValidateBy,
} from 'class-validator';
import { IsOmittable } from '../../common/omittable';
import { ApiId, ApiInstant } from '../../common/openapi';
import { ACCESS_LEVELS, AccessLevel } from '../access-level';
import { NoControlCharacters } from '../../common/validators';

const DISPLAY_NAME = { minLength: 1, maxLength: 200, description: 'No control characters' } as const;
const ACCESS = {
  enum: ACCESS_LEVELS,
  isArray: true,
  minItems: 1,
  maxItems: 5,
  uniqueItems: true,
  description: 'integration (a program logging credits for agents) is held alone',
} as const;
/** One to five distinct access levels; integration alone. */
const IsAccessList = () =>
  applyDecorators(
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(5),
    ArrayUnique(),
    IsIn(ACCESS_LEVELS, { each: true, message: `access must contain only ${ACCESS_LEVELS.join(', ')}` }),
    ValidateBy({
      name: 'integrationAlone',
      validator: {
        validate: (value: unknown) => !Array.isArray(value) || !value.includes('integration') || value.length === 1,
        defaultMessage: () => 'access may hold integration only on its own (a program holds no other level)',
      },
    }),
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
  @NoControlCharacters()
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
  @NoControlCharacters()
  externalRef?: string | null;
}

/** Every field may be left out; only roleId, teamId and externalRef may be null (to clear them). */
export class UpdateUserDto extends PickType(CreateUserDto, ['roleId', 'teamId', 'externalRef'] as const) {
  @ApiPropertyOptional(DISPLAY_NAME)
  @IsOmittable()
  @IsString()
  @Length(1, 200)
  @NoControlCharacters()
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
  @NoControlCharacters()
  label?: string;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'When the token stops working (ISO 8601, in the future, at most 3 years ahead); never when left out',
  })
  @IsOmittable()
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO 8601 date-time such as 2027-06-30T00:00:00Z' })
  @Matches(/T\d{2}:\d{2}/, { message: 'expiresAt must include a time, such as 2027-06-30T00:00:00Z' })
  expiresAt?: string;
}

export class IssuedTokenView {
  @ApiId() id!: string;
  @ApiProperty({ description: 'Shown once; only its hash is stored' }) token!: string;
  @ApiInstant({ nullable: true, description: 'When it stops working; null for never' }) expiresAt!: string | null;
}

/** An API token or a session, as listed (never the token itself: only its hash is stored). */
export class TokenView {
  @ApiId() id!: string;
  @ApiProperty({ enum: ['api', 'session'], description: '`api`: issued for a program; `session`: from signing in' })
  kind!: 'api' | 'session';
  @ApiProperty({ type: String, nullable: true }) label!: string | null;
  @ApiProperty({ enum: ['oidc', 'link'], nullable: true, description: 'Sessions: how the person signed in' })
  signedInWith!: 'oidc' | 'link' | null;
  @ApiProperty({ type: String, nullable: true, description: 'Sessions: the browser that signed in' })
  userAgent!: string | null;
  @ApiInstant() createdAt!: string;
  @ApiInstant({ nullable: true }) expiresAt!: string | null;
  @ApiInstant({ nullable: true, description: 'Up to a minute behind; null if never used' }) lastUsedAt!: string | null;
  @ApiInstant({ nullable: true }) revokedAt!: string | null;
  @ApiProperty({ description: 'Usable now: neither revoked nor expired' }) active!: boolean;
}

export class TokenListView {
  @ApiProperty({ type: [TokenView] }) data!: TokenView[];
}

export class SessionView extends TokenView {
  @ApiProperty({ description: 'The session making this request' }) current!: boolean;
}

export class SessionListView {
  @ApiProperty({ type: [SessionView] }) data!: SessionView[];
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
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: 'How many hours after recording an agent may reverse their own credit (LEEWAY_REVERSAL_WINDOW_HOURS)',
  })
  reversalWindowHours!: number;
}
