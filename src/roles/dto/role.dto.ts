import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';

export class CreateRoleDto {
  @ApiProperty({ example: 'Senior agent' })
  @IsString()
  @Length(1, 120)
  @Matches(/^[^\p{Cc}\p{Cs}]+$/u, { message: 'name must not contain control characters' })
  name!: string;

  @ApiPropertyOptional({ example: 'Handles escalated calls' })
  @IsOptional()
  @IsString()
  @Length(0, 1000)
  description?: string;
}
