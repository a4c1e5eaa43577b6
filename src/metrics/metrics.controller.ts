import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { refuseAuthentication } from '../access/access.guard';
import { Public } from '../access/allow.decorator';
import { AuthRateLimiter } from '../access/auth-rate-limiter';
import { ApiProblems } from '../common/openapi';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from './metrics.service';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  private readonly expected?: Buffer;

  constructor(
    private readonly metrics: MetricsService,
    private readonly limiter: AuthRateLimiter,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.expected = config.metricsToken ? digest(config.metricsToken) : undefined;
  }

  // Public to the user-token guard: it takes its own token (LEEWAY_METRICS_TOKEN), or none.
  @Get()
  @Public()
  @ApiBearerAuth('bearer')
  @ApiProblems(401, 429)
  @ApiOperation({
    summary: 'Prometheus metrics',
    description: 'Prometheus text format. Asks for `Authorization: Bearer <LEEWAY_METRICS_TOKEN>` when that is set.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', schema: { type: 'string' } })
  async scrape(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    if (this.expected && !this.authorised(request.headers.authorization)) {
      refuseAuthentication(this.limiter, request.ip ?? 'unknown', reply);
    }
    const { contentType, body } = await this.metrics.render();
    reply.header('content-type', contentType).header('cache-control', 'no-store');
    return body;
  }

  private authorised(header: string | undefined): boolean {
    const match = typeof header === 'string' ? /^Bearer (\S{1,512})$/.exec(header.trim()) : null;
    // Compared as fixed-length digests, so neither the length nor the content leaks through timing.
    return match !== null && timingSafeEqual(digest(match[1]), this.expected!);
  }
}
