import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsString, Length, Matches } from 'class-validator';
import { IsOmittable } from '../../common/omittable';
import { NoControlCharacters, REASON_CODE } from '../../common/validators';

const CODE = {
  pattern: REASON_CODE.source,
  example: 'late_delivery',
  description: 'lower_snake_case, 2 to 50 characters',
};
const LABEL = { minLength: 1, maxLength: 200, example: 'Late delivery', description: 'No control characters' };

export class CreateReasonDto {
  @ApiProperty(CODE)
  @IsString()
  @Matches(REASON_CODE, { message: 'code must be lower_snake_case, 2 to 50 characters' })
  code!: string;

  @ApiProperty(LABEL)
  @IsString()
  @Length(1, 200)
  @NoControlCharacters()
  label!: string;
}

export class UpdateReasonDto {
  @ApiPropertyOptional(LABEL)
  @IsOmittable()
  @IsString()
  @Length(1, 200)
  @NoControlCharacters()
  label?: string;

  @ApiPropertyOptional({ description: 'false retires the reason: existing credits keep it, new ones cannot use it' })
  @IsOmittable()
  @IsBoolean()
  active?: boolean;
}

export class ReasonView {
  @ApiProperty(CODE) code!: string;
  @ApiProperty() label!: string;
  @ApiProperty({ description: 'false = retired: new credits cannot use it' }) active!: boolean;
}

export class ReasonListView {
  @ApiProperty({ type: [ReasonView] }) data!: ReasonView[];
  @ApiProperty({ type: String, nullable: true, description: 'Always null: the catalogue comes in one page' })
  nextCursor!: null;
}
