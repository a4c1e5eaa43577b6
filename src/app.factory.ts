import { randomUUID } from 'node:crypto';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { errorCodes } from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { AppModule } from './app.module';
import { endWithNewline, parseJsonBody, toJson } from './common/json';
import { buildOpenApiDocument } from './common/openapi';
import { createRootLogger, NestPinoLogger } from './common/logger';
import { sendProblem } from './common/problem.filter';
import { AppConfig } from './config/config';
import { IMPORTS_PATH } from './imports/imports.controller';
import { MetricsService } from './metrics/metrics.service';

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
    // Only then is the client address (rate limits, logs) taken from X-Forwarded-For.
    trustProxy: trustProxy(config.trustProxy),
    requestIdHeader: false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Malformed URLs and overlong path segments are answered by Fastify's router before Nest sees them.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
      sendProblem(reply, request, error, new Logger('Fastify')),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, databaseUrl), adapter, {
    logger: new NestPinoLogger(logger),
    abortOnError: false,
    // JSON only (the parser below); Nest would add a form parser too.
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // One body parser, for application/json: anything else (text/plain included) is 415. It names a
  // forbidden key such as __proto__ instead of calling the body "not valid JSON".
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    // SCIM clients send their own media type (RFC 7644); it is JSON all the same.
    ['application/json', 'application/scim+json'],
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    (_, body, done) => {
      try {
        done(null, parseJsonBody(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
  // CSV files (imports) are read as they arrive: the route gets the stream, never the whole body.
  fastify.addContentTypeParser('text/csv', (request, payload, done) => {
    if (request.routeOptions.url === IMPORTS_PATH) done(null, payload);
    else done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE('text/csv'), undefined);
  });
  fastify.setReplySerializer((payload) => toJson(payload));
  fastify.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    return endWithNewline(reply.getHeader('content-type'), payload);
  });
  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
  });
  await app.register(helmet, {
    // Embedding in helpdesk sidebars is governed by frame-ancestors alone (X-Frame-Options cannot list origins).
    frameguard: false,
    // A sidebar signs in through a window it opens, which hands the session back by window.opener.
    // Cross-Origin-Opener-Policy: same-origin on any page of that way (/sign-in, the OIDC redirects,
    // the app it lands on) would cut the link, the sidebar's top page being the helpdesk's.
    crossOriginOpenerPolicy: { policy: 'unsafe-none' },
    contentSecurityPolicy: {
      directives: {
        'frame-ancestors': config.frameAncestors,
        // Operators often serve plain http inside their network; upgrading would break /docs there.
        'upgrade-insecure-requests': null,
      },
    },
  });

  await serveWeb(app, logger);
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  Logger.flush();
  return app;
}

/** The web app as `npm run build` leaves it (Vite's output), from dist/src or from src under the tests. */
export const WEB_ROOT = join(__dirname, __dirname.endsWith(join('dist', 'src')) ? '..' : join('..', 'dist'), 'web');

/**
 * The pages people open in a browser, from the built web app (the API stays under /v1). Each built
 * file gets its own route; nothing else is caught, so unknown paths stay 404 problem+json.
 */
async function serveWeb(app: NestFastifyApplication, logger: PinoLogger): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  if (!existsSync(join(WEB_ROOT, 'index.html'))) {
    logger.warn(`the web app is not built (${WEB_ROOT}): run npm run build`);
    return;
  }
  await app.register(fastifyStatic, {
    root: WEB_ROOT,
    wildcard: false,
    index: false,
    // Vite names assets by content: they never change under one name.
    setHeaders: (reply, path) =>
      reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'),
  });
  fastify.get('/', (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
  fastify.get('/sign-in', (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('sign-in.html'));
}

/** A hop count as a function: the adapter's options type takes no number, Fastify's does. */
function trustProxy(
  setting: AppConfig['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof setting === 'number' ? (_, hop) => hop < setting : setting;
}
