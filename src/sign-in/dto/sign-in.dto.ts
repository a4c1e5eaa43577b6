import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { ApiId, ApiInstant } from '../../common/openapi';

export class SignInOptionsView {
  @ApiProperty({ description: 'Whether people can sign in through the organisation’s identity provider' })
  oidc!: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '/auth/oidc/start',
    description: 'Where a browser goes to sign in that way (add `returnTo=/path`); null without one',
  })
  oidcStartPath!: string | null;
}

export class RedeemLinkDto {
  @ApiProperty({ description: 'The secret after `#link=` in a sign-in link', example: 'lw_…' })
  @IsString()
  @Matches(/^lw_[A-Za-z0-9_-]{43}$/, { message: 'link must be the secret after #link= in a sign-in link' })
  link!: string;
}

export class StartedSessionView {
  @ApiProperty({ description: 'The session token: send it as `Authorization: Bearer …`' }) token!: string;
  @ApiId({ description: 'The session, as /v1/me/sessions lists it' }) sessionId!: string;
  @ApiInstant() expiresAt!: string;
  @ApiId() userId!: string;
}

export class IssuedLinkView {
  @ApiId() id!: string;
  @ApiProperty({
    format: 'uri',
    description: 'Give this to the person, once: it works one time within 24 hours; only its hash is stored',
  })
  url!: string;
  @ApiInstant() expiresAt!: string;
}
