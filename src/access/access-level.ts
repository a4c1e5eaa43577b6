export const ACCESS_LEVELS = ['agent', 'leader', 'finance', 'auditor', 'admin'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];
