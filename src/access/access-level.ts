/** What people hold; one person may hold several. */
export const PEOPLE_LEVELS = ['agent', 'leader', 'finance', 'auditor', 'admin'] as const;
/**
 * Every level: the people's, and `integration`, a program (a helpdesk, a shop) that logs credits
 * on behalf of agents and imports history. An integration holds no other level.
 */
export const ACCESS_LEVELS = [...PEOPLE_LEVELS, 'integration'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];
