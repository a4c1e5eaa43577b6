import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError, FieldProblem } from './domain-error';

function flatten(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({
      field,
      message: message.startsWith('property ') ? `${field} is not a known field` : message,
    }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** class-validator pipe whose failures become DomainError('VALIDATION') naming each field. */
@Injectable()
export class AppValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => {
        const problems = flatten(errors);
        const detail = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
        return new DomainError('VALIDATION', detail || 'The request is invalid.', problems);
      },
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && this.toValidate(metadata)) {
      if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw DomainError.validation('body', 'must be a JSON object');
      }
    }
    if (metadata.type === 'query' && value && typeof value === 'object') {
      // Repeated query parameters arrive as arrays; name them rather than failing obscurely.
      for (const [key, item] of Object.entries(value)) {
        if (Array.isArray(item)) throw DomainError.validation(key, 'must be given once');
      }
    }
    return super.transform(value, metadata);
  }
}
