import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { ApiId, ApiInstant, ApiMoney } from '../../common/openapi';
import { NoControlCharacters } from '../../common/validators';

export class CreateRoleDto {
  @ApiProperty({ example: 'Senior agent', minLength: 1, maxLength: 120, description: 'Unique; no control characters' })
  @IsString()
  @Length(1, 120)
  @NoControlCharacters()
  name!: string;

  @ApiPropertyOptional({ example: 'Handles escalated calls', maxLength: 1000, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @Length(0, 1000)
  @NoControlCharacters({ multiline: true })
  description?: string | null;
}

const NO_LIMIT = 'minor units; null = no limit in this window';

/** Limits as stored: every window present, null where there is no limit. */
export class LimitsView {
  @ApiMoney({ minimum: 0, nullable: true, description: `Largest single credit within discretion (${NO_LIMIT})` })
  perCredit!: bigint | null;
  @ApiMoney({ minimum: 0, nullable: true, description: `All agents together on one case (${NO_LIMIT})` })
  perCase!: bigint | null;
  @ApiMoney({ minimum: 0, nullable: true, description: `One agent per local day (${NO_LIMIT})` })
  perAgentDay!: bigint | null;
  @ApiMoney({ minimum: 0, nullable: true, description: `One agent per local month (${NO_LIMIT})` })
  perAgentMonth!: bigint | null;
}

export class CurrencyLimitsView extends LimitsView {
  @ApiProperty({ example: 'EUR', description: 'ISO 4217 code' }) currency!: string;
}

export class RoleView {
  @ApiId() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'The current limits version; 0 = none set yet' })
  limitsVersion!: number;
  @ApiProperty({
    type: [CurrencyLimitsView],
    description: 'The current limits; currencies not listed give no discretion',
  })
  limits!: CurrencyLimitsView[];
  @ApiInstant() createdAt!: string;
}

export class LimitsVersionView {
  @ApiId() roleId!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: '0 = no limits set yet (no discretion in any currency)' })
  version!: number;
  @ApiProperty({ type: [CurrencyLimitsView], description: 'Currencies not listed give no discretion' })
  limits!: CurrencyLimitsView[];
  @ApiId({ nullable: true, description: 'Who set this version; null for version 0' }) setBy!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Their display name; null for version 0' })
  setByName!: string | null;
  @ApiInstant({ nullable: true, description: 'When this version was set; null for version 0' })
  setAt!: string | null;
}
