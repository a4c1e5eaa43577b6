import { Module } from '@nestjs/common';
import { AuthCache } from './auth-cache';
import { AuthRateLimiter } from './auth-rate-limiter';
import { TokensService } from './tokens.service';
import { TokenUsage } from './token-usage';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  controllers: [UsersController],
  providers: [UsersService, TokensService, TokenUsage, AuthRateLimiter, AuthCache],
  exports: [TokensService, TokenUsage, AuthRateLimiter],
})
export class AccessModule {}
