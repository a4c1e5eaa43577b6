import { Module } from '@nestjs/common';
import { CreditsController } from './credits.controller';
import { CreditsService } from './credits.service';
import { HeadroomService } from './headroom.service';

@Module({ controllers: [CreditsController], providers: [CreditsService, HeadroomService] })
export class CreditsModule {}
