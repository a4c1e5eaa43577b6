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
}
