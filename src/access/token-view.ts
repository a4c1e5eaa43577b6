import { TokenView } from './dto/user.dto';
import { TokenRow } from './tokens.service';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function tokenView(row: TokenRow, now = new Date()): TokenView {
  return {
    id: row.id,
    kind: row.kind,
    label: row.label,
    signedInWith: row.signed_in_with,
    userAgent: row.user_agent,
    createdAt: row.created_at.toISOString(),
    expiresAt: iso(row.expires_at),
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
    active: !row.revoked_at && (!row.expires_at || row.expires_at > now),
  };
}
