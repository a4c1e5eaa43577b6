export const CREDIT_KINDS = [
  'refund',
  'store_credit',
  'voucher',
  'waived_fee',
  'replacement',
  'upgrade',
  'gift',
  'other',
] as const;
export type CreditKind = (typeof CREDIT_KINDS)[number];

export const CHANNELS = ['phone', 'chat', 'email', 'in_person', 'social', 'other'] as const;
export type Channel = (typeof CHANNELS)[number];

export const ACCOUNTS = {
  within: 'goodwill:within-discretion',
  overrun: 'goodwill:cost-of-doing-business',
  owed: 'remedies:owed',
} as const;
