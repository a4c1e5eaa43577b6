import { ApiProperty, PickType } from '@nestjs/swagger';
import { ApiId, ApiInstant, ApiMoney } from '../../common/openapi';
import { MAX_AMOUNT } from '../../common/money';
import { LIMIT_KEYS } from '../../roles/limits';
import { LimitsView } from '../../roles/dto/role.dto';
import { CHANNELS, CREDIT_KINDS } from '../credit-kinds';

/** Response shapes of the credits API, as the document describes them. */

export class ReversalView {
  @ApiId() id!: string;
  @ApiId({ description: 'Who reversed it' }) by!: string;
  @ApiProperty() reason!: string;
  @ApiInstant() recordedAt!: string;
}

export class CreditSourceView {
  @ApiProperty({ example: 'Zendesk', description: 'The integration that logged it (its name then)' }) system!: string;
  @ApiProperty({ example: 'refund-88231', description: 'Its id there: the Idempotency-Key it sent' })
  externalId!: string;
}

export class CreditView {
  @ApiId() id!: string;
  @ApiId() agentId!: string;
  @ApiId({ nullable: true, description: 'The agent’s job role when the credit was logged' }) roleId!: string | null;
  @ApiId({ nullable: true, description: 'The agent’s team when the credit was logged' }) teamId!: string | null;
  @ApiMoney({ minimum: 1, maximum: Number(MAX_AMOUNT), description: 'Minor units' }) amount!: bigint;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ enum: CREDIT_KINDS }) kind!: string;
  @ApiProperty({ example: 'late_delivery' }) reasonCode!: string;
  @ApiProperty({ example: 'CASE-48213' }) caseRef!: string;
  @ApiProperty({ type: String, nullable: true }) customerRef!: string | null;
  @ApiProperty({ enum: CHANNELS, nullable: true }) channel!: string | null;
  @ApiProperty({ type: String, nullable: true }) note!: string | null;
  @ApiInstant() occurredAt!: string;
  @ApiInstant() recordedAt!: string;
  @ApiMoney({ minimum: 0, maximum: Number(MAX_AMOUNT), description: 'The part within the agent’s discretion' })
  withinDiscretion!: bigint;
  @ApiMoney({ minimum: 0, maximum: Number(MAX_AMOUNT), description: 'The part beyond it (a cost of doing business)' })
  overrun!: bigint;
  @ApiProperty({ description: 'True when the agent had no limits in this currency' }) unbudgeted!: boolean;
  @ApiProperty({ type: 'integer', minimum: 0, nullable: true, description: 'Limits version applied' })
  limitsVersion!: number | null;
  @ApiProperty({ enum: [...LIMIT_KEYS, 'none'], nullable: true, description: 'The limit that decided the split' })
  bindingLimit!: string | null;
  @ApiProperty({ type: ReversalView, nullable: true }) reversedBy!: ReversalView | null;
  @ApiProperty({ type: CreditSourceView, nullable: true, description: 'Set when an integration logged it' })
  source!: CreditSourceView | null;
}

export class HeadroomUsedView {
  @ApiMoney({ minimum: 0, nullable: true, description: 'On the case (all agents); null without caseRef' })
  case!: bigint | null;
  @ApiMoney({ minimum: 0, description: 'By the agent today (local day)' }) day!: bigint;
  @ApiMoney({ minimum: 0, description: 'By the agent this local month' }) month!: bigint;
}

export class HeadroomRemainingView {
  @ApiMoney({ minimum: 0, nullable: true, description: 'null = no limit' }) perCredit!: bigint | null;
  @ApiMoney({ minimum: 0, nullable: true, description: 'null = no limit' }) perCase!: bigint | null;
  @ApiMoney({ minimum: 0, nullable: true, description: 'null = no limit' }) perAgentDay!: bigint | null;
  @ApiMoney({ minimum: 0, nullable: true, description: 'null = no limit' }) perAgentMonth!: bigint | null;
}

export class HeadroomView {
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ description: 'True when the agent has no limits in this currency (no discretion)' })
  unbudgeted!: boolean;
  @ApiProperty({ type: 'integer', minimum: 0, nullable: true }) limitsVersion!: number | null;
  @ApiProperty({ type: LimitsView, nullable: true }) limits!: LimitsView | null;
  @ApiProperty({ type: String, nullable: true }) caseRef!: string | null;
  @ApiProperty({ type: HeadroomUsedView }) used!: HeadroomUsedView;
  @ApiProperty({ type: HeadroomRemainingView }) remaining!: HeadroomRemainingView;
  @ApiMoney({ minimum: 0, nullable: true, description: 'The most a next credit can give within discretion' })
  available!: bigint | null;
}

export class HeadroomListView {
  @ApiProperty({ type: [HeadroomView] }) data!: HeadroomView[];
}

export class LoggedCreditView extends CreditView {
  @ApiProperty({ type: HeadroomView, description: 'Headroom after this credit' }) headroom!: HeadroomView;
}

/**
 * What an integration is told about the credit it logged: the credit and its source, never the
 * agent's split or headroom (figures about a named person belong in that person's own view).
 */
export class IntegrationCreditView extends PickType(CreditView, [
  'id',
  'amount',
  'currency',
  'kind',
  'reasonCode',
  'caseRef',
  'customerRef',
  'channel',
  'note',
  'occurredAt',
  'recordedAt',
] as const) {
  @ApiProperty({ example: 'agent-1042', description: 'The agent named, as sent' }) agentRef!: string;
  @ApiProperty({ type: CreditSourceView }) source!: CreditSourceView;
}
