import { registerDecorator, ValidationOptions } from 'class-validator';
import { CURRENCY_DIGITS } from './currencies';

export const MAX_AMOUNT = 1_000_000_000_000n;
export const MAX_LIMIT = 1_000_000_000_000_000n;

/**
 * Amounts arrive as JSON numbers. Only safe integers are accepted, so converting one to
 * bigint is exact; from there on money is bigint and never a float.
 */
export function IsMinorUnits(max: bigint, min = 1n, options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isMinorUnits',
      target: target.constructor,
      propertyName,
      options: {
        message: `${propertyName} must be a whole number of minor units from ${min} to ${max}`,
        ...options,
      },
      validator: {
        validate: (value: unknown) =>
          typeof value === 'number' && Number.isSafeInteger(value) && BigInt(value) >= min && BigInt(value) <= max,
      },
    });
}

export function isCurrency(code: unknown): code is string {
  return typeof code === 'string' && CURRENCY_DIGITS.has(code);
}

export function minorUnitsOf(code: string): number {
  const digits = CURRENCY_DIGITS.get(code);
  if (digits === undefined) throw new Error(`unknown currency ${code}`);
  return digits;
}

export function IsCurrency(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isCurrency',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be an ISO 4217 currency code such as EUR`, ...options },
      validator: { validate: isCurrency },
    });
}
