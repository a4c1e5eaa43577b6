import { ApiProperty } from '@nestjs/swagger';

/** RFC 7644 §3.12: how SCIM answers errors. */
export class ScimErrorView {
  @ApiProperty({ example: ['urn:ietf:params:scim:api:messages:2.0:Error'] }) schemas!: string[];
  @ApiProperty({ example: '404', description: 'The HTTP status, as a string' }) status!: string;
  @ApiProperty({ required: false, example: 'uniqueness' }) scimType?: string;
  @ApiProperty({ required: false }) detail?: string;
}
