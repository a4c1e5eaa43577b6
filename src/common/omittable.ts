import { ValidateIf, ValidationOptions } from 'class-validator';

/**
 * The field may be left out, but when sent it is validated, null included: unlike @IsOptional,
 * `null` is refused where the document does not mark the field nullable.
 */
export const IsOmittable = (options?: ValidationOptions) =>
  ValidateIf((_: object, value: unknown) => value !== undefined, options);
