import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Length, Matches } from 'class-validator';

export class CreateReasonDto {
  @ApiProperty({ example: 'late_delivery', description: 'lower_snake_case, 2 to 50 characters' })
  @IsString()
  @Matches(/^[a-z][a-z0-9_]{1,49}$/, { message: 'code must be lower_snake_case, 2 to 50 characters' })
  code!: string;

  @ApiProperty({ example: 'Late delivery' })
  @IsString()
  @Length(1, 200)
  @Matches(/^[^\p{Cc}\p{Cs}]+$/u, { message: 'label must not contain control characters' })
  label!: string;
}

export class UpdateReasonDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(/^[^\p{Cc}\p{Cs}]+$/u, { message: 'label must not contain control characters' })
  label?: string;

  @ApiPropertyOptional({ description: 'false retires the reason: existing credits keep it, new ones cannot use it' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}
