import { ParseUUIDPipe } from '@nestjs/common';
import { DomainError } from './domain-error';

/**
 * Path ids that are not UUIDs cannot name anything the caller may see, so they answer 404
 * exactly like an id that does not exist.
 */
export const uuidPipe = new ParseUUIDPipe({
  exceptionFactory: () => new DomainError('NOT_FOUND', 'Nothing exists at this id.'),
});
