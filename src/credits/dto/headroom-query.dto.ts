import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsCurrency } from '../../common/money';
import { IsCaseRef } from '../../common/validators';

export class HeadroomQueryDto {
  @ApiPropertyOptional({ example: 'EUR' })
  @IsOptional()
  @IsCurrency()
  currency?: string;

  @ApiPropertyOptional({
    example: 'CASE-48213',
    minLength: 1,
    maxLength: 100,
    description: 'Adds the case window; not blank, no control characters',
  })
  @IsOptional()
  @IsCaseRef()
  caseRef?: string;
}
