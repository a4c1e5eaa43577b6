import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Logger as PinoLogger } from 'pino';
import { AppModule } from './app.module';
import { toJson } from './common/json';
import { createRootLogger, NestPinoLogger } from './common/logger';
import { AppConfig } from './config/config';

export const BODY_LIMIT_BYTES = 64 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Builds the application exactly as production runs it; tests use the same function. */
export async function createApp(
  config: AppConfig,
  databaseUrl: string,
  logger: PinoLogger = createRootLogger(config.logLevel),
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: false,
    requestIdHeader: false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, databaseUrl), adapter, {
    logger: new NestPinoLogger(logger),
    abortOnError: false,
    // JSON only: Fastify's own JSON parser (with bodyLimit) stays; Nest would add a form parser too.
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.setReplySerializer((payload) => toJson(payload));
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Leeway')
      .setDescription(
        'Goodwill-budget ledger: discretion limits, blame-free reporting. Amounts are integer minor units.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  Logger.flush();
  return app;
}
