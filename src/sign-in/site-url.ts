import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';

/**
 * Where people reach the service: LEEWAY_PUBLIC_URL, or else the address it listens on (known only
 * once it listens, so main and the tests set it then). Redirects and printed links are built on it.
 */
@Injectable()
export class SiteUrl {
  private listening?: string;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  listeningOn(url: string): void {
    this.listening = url.replace(/\/$/, '');
  }

  get base(): string {
    const base = this.config.publicUrl ?? this.listening;
    if (!base) throw new Error('the service is not listening yet, and LEEWAY_PUBLIC_URL is unset');
    return base;
  }

  to(path: string): string {
    return `${this.base}${path}`;
  }

  /**
   * Every origin that reaches this service: the public URL, the address it listens on, and that
   * port on the loopback names (what a webhook endpoint must never point at).
   */
  ownOrigins(): Set<string> {
    const origins = new Set<string>();
    for (const url of [this.config.publicUrl, this.listening]) {
      if (!url) continue;
      const u = new URL(url);
      origins.add(u.origin);
      if (url === this.listening) {
        const port = u.port || (u.protocol === 'https:' ? '443' : '80');
        for (const host of ['localhost', '127.0.0.1', '[::1]', '0.0.0.0', '[::]']) {
          origins.add(`http://${host}:${port}`);
          origins.add(`https://${host}:${port}`);
        }
      }
    }
    return origins;
  }
}
