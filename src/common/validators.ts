import { applyDecorators } from '@nestjs/common';
import { IsString, Length, Matches, ValidationOptions } from 'class-validator';

/** Single-line text: no control characters (nor lone surrogates). Length is checked on its own. */
export const SINGLE_LINE = /^[^\p{Cc}\p{Cs}]*$/u;
/** Text that may span lines: tabs and line breaks allowed, other control characters not. */
export const MULTI_LINE = /^[^\p{Cs}\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]*$/u;
/** A reason's code, as in /v1/reasons: lower_snake_case, 2 to 50 characters. */
export const REASON_CODE = /^[a-z][a-z0-9_]{1,49}$/;
/** A calendar month, `2026-11`. */
export const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
/** A month (`2026-11`) or a day (`2026-11-05`). */
export const MONTH_OR_DAY = /^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$/;

/** The field holds no control characters (`multiline`: except tabs and line breaks). */
export function NoControlCharacters(options: { multiline?: boolean } & ValidationOptions = {}): PropertyDecorator {
  const { multiline, ...rest } = options;
  return Matches(multiline ? MULTI_LINE : SINGLE_LINE, {
    message: '$property must not contain control characters',
    ...rest,
  });
}

/** The field is a reason code such as late_delivery. */
export function IsReasonCode(options: ValidationOptions = {}): PropertyDecorator {
  return Matches(REASON_CODE, { message: '$property must be a reason code such as late_delivery', ...options });
}

/** A support case's reference: 1 to 100 characters, not blank, on one line. */
export function IsCaseRef(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    Length(1, 100),
    Matches(/^[^\p{Cc}\p{Cs}\p{Zl}\p{Zp}]+$/u, { message: '$property must not contain control characters' }),
    Matches(/\S/, { message: '$property must not be blank' }),
  );
}
