import { AccessLevel } from './access-level';

/** The authenticated caller, attached to the request by AccessGuard. */
export interface Principal {
  id: string;
  displayName: string;
  access: AccessLevel[];
  roleId: string | null;
  teamId: string | null;
  tokenId: string;
}
