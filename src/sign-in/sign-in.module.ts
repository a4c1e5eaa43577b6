import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { OidcService } from './oidc.service';
import { SignInController } from './sign-in.controller';
import { SignInLinksService } from './sign-in-links.service';
import { OidcLimiter } from './oidc-limiter';
import { SiteUrl } from './site-url';

@Module({
  imports: [AccessModule],
  controllers: [SignInController],
  providers: [OidcService, SignInLinksService, OidcLimiter, SiteUrl],
  exports: [SignInLinksService, SiteUrl],
})
export class SignInModule {}
