import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problemOf } from './problem';
import { httpRefusal } from './problem-fastify';
import { toDomainError } from './to-domain-error';
import { toJson } from './json';

export function sendProblem(reply: FastifyReply, request: FastifyRequest, thrown: unknown, logger: Logger): void {
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
