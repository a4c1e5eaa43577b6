import { ApiProperty } from '@nestjs/swagger';
import { ApiId, ApiInstant } from '../../common/openapi';

export class ProvisioningTokenView {
  @ApiId() id!: string;
  @ApiProperty({ type: String, nullable: true }) label!: string | null;
  @ApiInstant() createdAt!: string;
  @ApiInstant({ nullable: true, description: 'Up to a minute behind; null if never used' }) lastUsedAt!: string | null;
  @ApiInstant({ nullable: true }) revokedAt!: string | null;
  @ApiInstant({ nullable: true, description: 'When it stops working; null for never' }) expiresAt!: string | null;
}

export class ProvisioningTokenListView {
  @ApiProperty({ type: [ProvisioningTokenView] }) data!: ProvisioningTokenView[];
}
