import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
} from 'class-validator';
import { ApiId, ApiInstant } from '../../common/openapi';

export const EVENT_TYPES = ['credit.logged', 'credit.reversed', 'limits.changed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export class CreateWebhookDto {
  @ApiProperty({
    example: 'https://shop.example.com/hooks/leeway',
    maxLength: 2000,
    description:
      'http(s); never this service, nor (unless LEEWAY_WEBHOOK_ALLOW_PRIVATE) a loopback, private or link-local address',
  })
  @IsString()
  @Length(8, 2000)
  url!: string;

  @ApiProperty({ enum: EVENT_TYPES, isArray: true, example: ['credit.logged'] })
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(EVENT_TYPES, { each: true, message: `each of eventTypes must be one of ${EVENT_TYPES.join(', ')}` })
  eventTypes!: EventType[];

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({
    default: false,
    description: "Credit events carry the agent's externalRef only where this is true",
  })
  @IsOptional()
  @IsBoolean()
  includeAgentRef?: boolean;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @Length(8, 2000)
  url?: string;

  @ApiPropertyOptional({ enum: EVENT_TYPES, isArray: true })
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(EVENT_TYPES, { each: true, message: `each of eventTypes must be one of ${EVENT_TYPES.join(', ')}` })
  eventTypes?: EventType[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  includeAgentRef?: boolean;
}

export class ReplayDto {
  @ApiProperty({ format: 'uuid', description: 'The event to send again (its id is the webhook-id header)' })
  @IsUUID()
  eventId!: string;
}

export class WebhookView {
  @ApiId() id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ enum: EVENT_TYPES, isArray: true }) eventTypes!: EventType[];
  @ApiProperty() active!: boolean;
  @ApiProperty() includeAgentRef!: boolean;
  @ApiInstant() createdAt!: string;
  @ApiInstant() updatedAt!: string;
}

export class CreatedWebhookView extends WebhookView {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'Shown once: verify signatures with it',
  })
  secret!: string;
}

export class AttemptView {
  @ApiProperty({ type: 'integer' }) attempt!: number;
  @ApiInstant() at!: string;
  @ApiProperty({ type: 'integer', nullable: true, description: 'The receiver’s HTTP status, if it answered' }) status!:
    number | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty({ type: 'integer' }) durationMs!: number;
}

export class DeliveryView {
  @ApiId() id!: string;
  @ApiId() eventId!: string;
  @ApiProperty({ enum: EVENT_TYPES }) eventType!: EventType;
  @ApiProperty({ enum: ['pending', 'delivered', 'parked'] }) state!: 'pending' | 'delivered' | 'parked';
  @ApiProperty({ type: 'integer' }) attempts!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) nextAttemptAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deliveredAt!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The delivery this one replays' })
  replayOf!: string | null;
  @ApiInstant() createdAt!: string;
  @ApiProperty({ type: [AttemptView] }) attemptLog!: AttemptView[];
}
