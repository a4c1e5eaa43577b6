import { applyDecorators, INestApplication, Type } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  DocumentBuilder,
  getSchemaPath,
  OpenAPIObject,
  SwaggerModule,
} from '@nestjs/swagger';
import type { ApiPropertyOptions } from '@nestjs/swagger';

/**
 * The OpenAPI document is the service's contract: the e2e suite checks every response against it
 * and `npm run lint` lints it. These helpers keep the decorators that build it short and uniform.
 */

export const PROBLEM_TYPE = 'application/problem+json';
const BEARER = 'bearer';

export class FieldProblemView {
  @ApiProperty({ example: 'amount', description: 'The field, dotted for nested ones (`limits.0.currency`)' })
  field!: string;

  @ApiProperty({ example: 'amount must be a whole number of minor units from 1 to 1000000000000' })
  message!: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'For an imported file: the line, 1 = header' })
  line?: number;
}

/** RFC 9457 problem details, as every error is answered. */
export class ProblemView {
  @ApiProperty({ format: 'uri', example: 'https://leeway.dev/problems/validation' })
  type!: string;

  @ApiProperty({ example: 'Invalid request' })
  title!: string;

  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 400 })
  status!: number;

  @ApiProperty({ example: 'amount: amount must be a whole number of minor units from 1 to 1000000000000' })
  detail!: string;

  @ApiPropertyOptional({ description: 'The request path' })
  instance?: string;

  @ApiPropertyOptional({ type: [FieldProblemView], description: 'One entry per invalid field (validation only)' })
  errors?: FieldProblemView[];
}

export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

const PROBLEM_DESCRIPTIONS: Record<ProblemStatus, string> = {
  400: 'The request is invalid; `errors` names each field',
  401: 'No valid bearer token',
  403: 'The caller’s access levels do not allow this',
  404: 'Nothing the caller may see exists here',
  409: 'The request conflicts with what exists',
  413: 'The request body is too large',
  415: 'The request body is not JSON',
  422: 'The Idempotency-Key was used before with a different body, or no active agent has the agentRef',
  429: 'Too many failed authentications from this client; try again later',
  503: 'The database is not reachable; retry after `Retry-After` seconds',
};

const PROBLEM_HEADERS: Partial<Record<ProblemStatus, Record<string, { description: string; schema: object }>>> = {
  401: { 'WWW-Authenticate': { description: 'Always `Bearer`', schema: { type: 'string' } } },
  503: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer', minimum: 0 } } },
};

export function problemResponse(status: ProblemStatus, description = PROBLEM_DESCRIPTIONS[status]) {
  return {
    description,
    ...(PROBLEM_HEADERS[status] ? { headers: PROBLEM_HEADERS[status] } : {}),
    content: { [PROBLEM_TYPE]: { schema: { $ref: getSchemaPath(ProblemView) } } },
  };
}

/**
 * Error statuses an operation may answer, each as application/problem+json; `[status, description]`
 * says what that status means on this route.
 */
export function ApiProblems(
  ...statuses: Array<ProblemStatus | [ProblemStatus, string]>
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((entry) => {
      const [status, description] = Array.isArray(entry) ? entry : [entry, undefined];
      return ApiResponse({ status, ...problemResponse(status, description) });
    }),
  );
}

/** What `@Allow(...)` adds to the document: the bearer scheme and the answers of the access guard. */
export function ApiSignedIn(levels: readonly string[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiBearerAuth(BEARER),
    ApiProblems(401, 429, 503),
    ApiResponse({
      status: 403,
      ...problemResponse(
        403,
        levels.length > 0
          ? `Needs one of these access levels: ${levels.join(', ')}`
          : 'Integration tokens may not call this',
      ),
    }),
  );
}

/** A UUID property (ids are always UUID strings). */
export function ApiId(options: ApiPropertyOptions = {}): PropertyDecorator {
  return ApiProperty({ type: String, format: 'uuid', ...options } as ApiPropertyOptions);
}

/** A date-time property (ISO 8601, UTC). */
export function ApiInstant(options: ApiPropertyOptions = {}): PropertyDecorator {
  return ApiProperty({ type: String, format: 'date-time', ...options } as ApiPropertyOptions);
}

/** Validation only lets safe integers through, so that is the effective bound of a limit. */
export const MAX_SAFE_MONEY = Number.MAX_SAFE_INTEGER;

/**
 * Money: a JSON integer of minor units, never a float. Bounds default to what responses can hold
 * (int64); requests pass the bounds their validator enforces.
 */
export function ApiMoney(
  options: { minimum?: number; maximum?: number; required?: boolean; nullable?: boolean; description?: string } = {},
): PropertyDecorator {
  const { required = true, ...rest } = options;
  return ApiProperty({ type: 'integer', format: 'int64', required, ...rest } as ApiPropertyOptions);
}

/** A count (credits, rows): a non-negative JSON integer. */
export function ApiCount(options: ApiPropertyOptions = {}): PropertyDecorator {
  return ApiProperty({ type: 'integer', format: 'int64', minimum: 0, ...options } as ApiPropertyOptions);
}

const pages = new Map<Type, Type>();

/** `{ data: T[], nextCursor }`, one named schema per item type (`UserViewPage`). */
export function PageOf(item: Type): Type {
  const known = pages.get(item);
  if (known) return known;
  class Page {
    data!: unknown[];
    nextCursor!: string | null;
  }
  ApiProperty({ type: [item] })(Page.prototype, 'data');
  ApiProperty({
    type: String,
    nullable: true,
    maxLength: 512,
    description: 'Pass as `cursor` for the next page; null on the last page',
  })(Page.prototype, 'nextCursor');
  Object.defineProperty(Page, 'name', { value: `${item.name}Page` });
  pages.set(item, Page);
  return Page;
}

/** 200 with a page of `item`. */
export const ApiPage = (item: Type) => ApiResponse({ status: 200, description: 'One page', type: PageOf(item) });

/** 200 answering JSON (`type`) or CSV, chosen by `format=csv` or `Accept: text/csv`. */
export function ApiJsonOrCsv(type: Type, csvDescription: string): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(type),
    ApiResponse({
      status: 200,
      description: 'JSON by default; CSV with `format=csv` or `Accept: text/csv`',
      content: {
        'application/json': { schema: { $ref: getSchemaPath(type) } },
        'text/csv': { schema: { type: 'string', description: csvDescription } },
      },
    }),
  );
}

type Operation = {
  parameters?: Array<{ in: string; name: string; schema?: object }>;
  requestBody?: unknown;
  responses: Record<string, unknown>;
  security?: unknown[];
};

/**
 * What every route shares, added here once rather than on every route: a body may be malformed,
 * too large or not JSON; a query may be invalid; an `{id}` is a UUID (uuidPipe answers 404 to
 * anything else); and operations without a token say so with an empty `security`.
 */
function addSharedAnswers(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'patch', 'delete'] as const) {
      const op = item[method] as Operation | undefined;
      if (!op) continue;
      const statuses: ProblemStatus[] = [];
      if (op.requestBody) statuses.push(400, 413, 415);
      if (op.parameters?.some((p) => p.in === 'query')) statuses.push(400);
      for (const status of statuses) op.responses[status] ??= problemResponse(status);
      for (const param of op.parameters ?? []) {
        if (param.in === 'path' && param.name === 'id') param.schema = { type: 'string', format: 'uuid' };
      }
      op.security ??= [];
    }
  }
}

/** The service's OpenAPI document, built from the controllers' decorators. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Leeway')
    .setDescription(
      'Goodwill-budget ledger: discretion limits, blame-free reporting. Amounts are integer minor units. ' +
        'Errors are RFC 9457 problem details (application/problem+json).',
    )
    .setVersion('1')
    .setLicense('UNLICENSED', 'https://leeway.dev/license')
    .addServer('/', 'This service')
    .addSecurity(BEARER, {
      type: 'http',
      scheme: 'bearer',
      description: 'An opaque API token (`lw_…`, issued by an admin) or a session token; never a JWT',
    })
    .addSecurity('provisioning', {
      type: 'http',
      scheme: 'bearer',
      description: 'A provisioning token (`lw_…`, issued by an admin) for /scim/v2 only',
    })
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ProblemView] });
  addSharedAnswers(document);
  return document;
}
