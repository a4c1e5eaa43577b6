import { Module } from '@nestjs/common';
import { CreditsController } from './credits.controller';
import { CreditsRepository } from './credits.repository';
import { CreditsService } from './credits.service';
import { HeadroomService } from './headroom.service';

@Module({ controllers: [CreditsController], providers: [CreditsService, CreditsRepository, HeadroomService] })
export class CreditsModule {}
