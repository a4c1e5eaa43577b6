import { Module } from '@nestjs/common';
import { SignInModule } from '../sign-in/sign-in.module';
import { Dispatcher } from './dispatcher';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({ imports: [SignInModule], controllers: [WebhooksController], providers: [WebhooksService, Dispatcher] })
export class WebhooksModule {}
