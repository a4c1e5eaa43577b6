import { Module } from '@nestjs/common';
import { AuthRateLimiter } from './auth-rate-limiter';
import { TokensService } from './tokens.service';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  controllers: [UsersController],
  providers: [UsersService, TokensService, AuthRateLimiter],
  exports: [TokensService, AuthRateLimiter],
})
export class AccessModule {}
