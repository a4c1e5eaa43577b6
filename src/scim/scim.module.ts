import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { SignInModule } from '../sign-in/sign-in.module';
import { ProvisioningTokensController } from './provisioning-tokens.controller';
import { ProvisioningTokensService } from './provisioning-tokens.service';
import { ScimAuthGuard } from './scim-auth.guard';
import { ScimController } from './scim.controller';
import { ScimService } from './scim.service';

@Module({
  imports: [AccessModule, SignInModule],
  controllers: [ScimController, ProvisioningTokensController],
  providers: [ScimService, ProvisioningTokensService, ScimAuthGuard],
})
export class ScimModule {}
