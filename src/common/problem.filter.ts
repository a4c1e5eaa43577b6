import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problemOf } from './problem';
import { httpRefusal } from './problem-fastify';
import { toDomainError } from './to-domain-error';
import { toJson } from './json';

export function sendProblem(reply: FastifyReply, request: FastifyRequest, thrown: unknown, logger: Logger): void {
  if (request.url.startsWith('/scim/v2/') && sendScimError(reply, request, thrown, logger)) return;
  const refusal = httpRefusal(thrown, request);
  const { error, unexpected } = refusal ? { error: refusal.error, unexpected: false } : toDomainError(thrown);
  for (const [name, value] of Object.entries(refusal?.headers ?? {})) reply.header(name, value);
  if (unexpected) {
    logger.error({ err: thrown, reqId: request.id }, 'unexpected error');
  }
  const problem = problemOf(error, request.url.split('?')[0]);
  if (problem.status === 503) reply.header('retry-after', '5');
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer');
  reply
    .status(problem.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send(`${toJson(problem)}\n`);
}

const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/**
 * SCIM clients read errors in SCIM's own format (RFC 7644 §3.12): scimmy's errors carry their
 * status and scimType; everything else is worded as it would be in problem+json.
 */
function sendScimError(reply: FastifyReply, request: FastifyRequest, thrown: unknown, logger: Logger): boolean {
  let body: { status: number; scimType?: string; detail: string };
  const scim = thrown as { name?: string; status?: unknown; scimType?: unknown; message?: string };
  if (thrown instanceof Error && scim.name === 'SCIMError' && typeof scim.status === 'number') {
    body = {
      status: scim.status,
      ...(typeof scim.scimType === 'string' ? { scimType: scim.scimType } : {}),
      detail: scim.message ?? '',
    };
  } else {
    const refusal = httpRefusal(thrown, request);
    const { error, unexpected } = refusal ? { error: refusal.error, unexpected: false } : toDomainError(thrown);
    if (unexpected) logger.error({ err: thrown, reqId: request.id }, 'unexpected error');
    for (const [name, value] of Object.entries(refusal?.headers ?? {})) reply.header(name, value);
    const problem = problemOf(error);
    body = {
      status: problem.status,
      ...(problem.status === 400 ? { scimType: 'invalidSyntax' } : {}),
      detail: problem.detail,
    };
  }
  if (body.status === 503) reply.header('retry-after', '5');
  if (body.status === 401) reply.header('www-authenticate', 'Bearer');
  reply
    .status(body.status)
    .header('content-type', 'application/scim+json; charset=utf-8')
    .send(`${toJson({ schemas: [SCIM_ERROR], ...body, status: String(body.status) })}\n`);
  return true;
}

/** Answers every error as RFC 9457 problem+json. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    if (reply.sent) return;
    sendProblem(reply, request, exception, this.logger);
  }
}
