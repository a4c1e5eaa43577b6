import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../app.module';
import { loadConfig } from '../config/config';
import { buildOpenApiDocument } from './openapi';

/**
 * Writes the OpenAPI document without a database: in preview mode Nest reads the controllers'
 * metadata but instantiates no provider, so TypeORM never connects.
 * Usage: `node dist/src/common/openapi-cli.js [file]` (standard output without a file).
 */
async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(loadConfig({}), 'postgres://unused@127.0.0.1:1/unused'),
    new FastifyAdapter(),
    { preview: true, logger: false, abortOnError: false },
  );
  const json = `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
  await app.close();
  const file = process.argv[2];
  if (file) writeFileSync(file, json);
  else process.stdout.write(json);
}

main().catch((error: unknown) => {
  process.stderr.write(`openapi: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
