import { AccessLevel } from './access-level';

export type TokenKind = 'api' | 'session';

/** The authenticated caller, attached to the request by AccessGuard. */
export interface Principal {
  id: string;
  displayName: string;
  access: AccessLevel[];
  roleId: string | null;
  teamId: string | null;
  tokenId: string;
  /** An API token (programs) or a session from signing in (people). */
  tokenKind: TokenKind;
}
