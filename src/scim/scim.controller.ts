import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiExtraModels,
  ApiOperation,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import SCIMMY from 'scimmy';
import { Public } from '../access/allow.decorator';
import { uuidPipe } from '../common/uuid.pipe';
import { SiteUrl } from '../sign-in/site-url';
import { ScimAuthGuard, ScimRequest } from './scim-auth.guard';
import { ScimContext, ScimService } from './scim.service';
import { ScimErrorView } from './dto/scim-error.dto';

export const SCIM_TYPE = 'application/scim+json';
export const SCIM_BASE = '/scim/v2';

const scimBody = (description: string) => ({
  description,
  content: { [SCIM_TYPE]: { schema: { type: 'object', additionalProperties: true } } },
});
const scimError = (status: number, description: string) =>
  ApiResponse({ status, description, content: { [SCIM_TYPE]: { schema: { $ref: getSchemaPath(ScimErrorView) } } } });

/** The SCIM answers every operation may give: no provisioning token, too many failures, database down. */
function ScimOperation(summary: string, ...statuses: Array<[number, string]>): MethodDecorator {
  return (target, key, descriptor) => {
    for (const decorate of [
      ApiOperation({ summary }),
      ApiBearerAuth('provisioning'),
      scimError(401, 'No valid provisioning token'),
      scimError(429, 'Too many failed authentications from this client'),
      scimError(503, 'The database is not reachable'),
      ...statuses.map(([status, description]) => scimError(status, description)),
    ])
      decorate(target, key, descriptor);
  };
}

const BODY_ERRORS: Array<[number, string]> = [
  [400, 'Invalid resource, filter or patch (scimType says which)'],
  [413, 'The request body is too large'],
  [415, 'The request body is not JSON'],
];

interface ListQuery {
  filter?: string;
  attributes?: string;
  excludedAttributes?: string;
  sortBy?: string;
  sortOrder?: string;
  startIndex?: string;
  count?: string;
}

/**
 * SCIM 2.0 for identity providers (Entra ID, Okta, …): Users and Groups (teams). scimmy parses
 * filters, applies patches and checks schemas; ScimService stores the result.
 */
@ApiTags('scim')
@ApiExtraModels(ScimErrorView)
@Controller(SCIM_BASE.slice(1))
@Public()
@UseGuards(ScimAuthGuard)
export class ScimController {
  constructor(
    private readonly scim: ScimService,
    private readonly site: SiteUrl,
  ) {}

  @Get('ServiceProviderConfig')
  @ScimOperation('SCIM: what this service provider supports')
  @ApiResponse({ status: 200, ...scimBody('The configuration') })
  async config(@Res({ passthrough: true }) reply: FastifyReply) {
    this.prepare(reply);
    return new SCIMMY.Resources.ServiceProviderConfig().read();
  }

  @Get('ResourceTypes')
  @ScimOperation('SCIM: the resource types (User, Group)')
  @ApiResponse({ status: 200, ...scimBody('The resource types') })
  async resourceTypes(@Res({ passthrough: true }) reply: FastifyReply) {
    this.prepare(reply);
    return new SCIMMY.Resources.ResourceType().read();
  }

  @Get('Schemas')
  @ScimOperation('SCIM: the schemas')
  @ApiResponse({ status: 200, ...scimBody('The schemas') })
  async schemas(@Res({ passthrough: true }) reply: FastifyReply) {
    this.prepare(reply);
    return new SCIMMY.Resources.Schema().read();
  }

  @Get('Users')
  @ScimOperation('SCIM: list or filter users', [400, 'Invalid filter'])
  @ApiResponse({ status: 200, ...scimBody('A ListResponse') })
  async listUsers(@Query() q: ListQuery, @Req() req: ScimRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    this.prepare(reply);
    const config = listConfig(q);
    return withStartIndex(await new SCIMMY.Resources.User(undefined, config).read(this.ctx(req)), config.startIndex);
  }

  @Get('Users/:id')
  @ScimOperation('SCIM: read a user', [404, 'No such user'])
  @ApiResponse({ status: 200, ...scimBody('The user') })
  getUser(@Param('id', uuidPipe) id: string, @Req() req: ScimRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    this.prepare(reply);
    return new SCIMMY.Resources.User(id).read(this.ctx(req));
  }

  @Post('Users')
  @ScimOperation('SCIM: provision a user (access: agent; an admin sets more in Leeway)', ...BODY_ERRORS, [
    409,
    'userName or externalId taken, or held by a Leeway user with more than agent access (never linked)',
  ])
  @ApiBody(scimBody('A User resource'))
  @ApiResponse({ status: 201, ...scimBody('The user') })
  async createUser(@Req() req: ScimRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    this.prepare(reply);
    reply.status(201);
    return new SCIMMY.Resources.User().write(req.body, this.ctx(req));
  }

  @Put('Users/:id')
  @ScimOperation(
    'SCIM: replace a user (active: false deprovisions)',
    ...BODY_ERRORS,
    [404, 'No such user'],
    [409, 'userName or externalId taken, or the user is the last active admin'],
  )
  @ApiBody(scimBody('A User resource'))
  @ApiResponse({ status: 200, ...scimBody('The user') })
  replaceUser(
    @Param('id', uuidPipe) id: string,
    @Req() req: ScimRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    this.prepare(reply);
    return new SCIMMY.Resources.User(id).write(req.body, this.ctx(req));
  }

  @Patch('Users/:id')
  @ScimOperation(
    'SCIM: patch a user (active: false deprovisions)',
    ...BODY_ERRORS,
    [404, 'No such user'],
    [409, 'userName or externalId taken, or the user is the last active admin'],
  )
  @ApiBody(scimBody('A PatchOp message'))
  @ApiResponse({ status: 200, ...scimBody('The user') })
  async patchUser(
    @Param('id', uuidPipe) id: string,
    @Req() req: ScimRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    this.prepare(reply);
    const ctx = this.ctx(req);
    // scimmy answers nothing when a patch changes nothing Leeway keeps (a work address, a manager):
    // the provider still gets the resource, as after any other patch.
    const patched = await new SCIMMY.Resources.User(id).patch(normalisePatch(req.body) as never, ctx);
    return patched ?? new SCIMMY.Resources.User(id).read(ctx);
  }

  @Delete('Users/:id')
  @HttpCode(204)
  @ScimOperation(
    'SCIM: deprovision a user (deactivated; the ledger keeps its history)',
    [404, 'No such user'],
    [409, 'The user is the last active admin'],
  )
  @ApiResponse({ status: 204, description: 'Deprovisioned: every token, session and sign-in link ended' })
  async deleteUser(@Param('id', uuidPipe) id: string, @Req() req: ScimRequest): Promise<void> {
    await new SCIMMY.Resources.User(id).dispose(this.ctx(req));
  }

  @Get('Groups')
  @ScimOperation('SCIM: list or filter groups (teams)', [400, 'Invalid filter'])
  @ApiResponse({ status: 200, ...scimBody('A ListResponse') })
  async listGroups(@Query() q: ListQuery, @Req() req: ScimRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    this.prepare(reply);
    const config = listConfig(q);
    return withStartIndex(await new SCIMMY.Resources.Group(undefined, config).read(this.ctx(req)), config.startIndex);
  }

  @Get('Groups/:id')
  @ScimOperation('SCIM: read a group (team)', [404, 'No such group'])
  @ApiResponse({ status: 200, ...scimBody('The group') })
  getGroup(
    @Param('id', uuidPipe) id: string,
    @Req() req: ScimRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    this.prepare(reply);
    return new SCIMMY.Resources.Group(id).read(this.ctx(req));
  }

  @Post('Groups')
  @ScimOperation('SCIM: create a group (a team)', ...BODY_ERRORS, [409, 'displayName or externalId taken'])
  @ApiBody(scimBody('A Group resource'))
  @ApiResponse({ status: 201, ...scimBody('The group') })
  createGroup(@Req() req: ScimRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    this.prepare(reply);
    reply.status(201);
    return new SCIMMY.Resources.Group().write(req.body, this.ctx(req));
  }

  @Put('Groups/:id')
  @ScimOperation(
    'SCIM: replace a group and its members',
    ...BODY_ERRORS,
    [404, 'No such group'],
    [409, 'displayName or externalId taken'],
  )
  @ApiBody(scimBody('A Group resource'))
  @ApiResponse({ status: 200, ...scimBody('The group') })
  replaceGroup(
    @Param('id', uuidPipe) id: string,
    @Req() req: ScimRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    this.prepare(reply);
    return new SCIMMY.Resources.Group(id).write(req.body, this.ctx(req));
  }

  @Patch('Groups/:id')
  @ScimOperation(
    'SCIM: patch a group (members join or leave the team)',
    ...BODY_ERRORS,
    [404, 'No such group'],
    [409, 'displayName or externalId taken'],
  )
  @ApiBody(scimBody('A PatchOp message'))
  @ApiResponse({ status: 200, ...scimBody('The group') })
  async patchGroup(
    @Param('id', uuidPipe) id: string,
    @Req() req: ScimRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    this.prepare(reply);
    const ctx = this.ctx(req);
    // scimmy answers nothing when a patch changes nothing Leeway keeps (a work address, a manager):
    // the provider still gets the resource, as after any other patch.
    const patched = await new SCIMMY.Resources.Group(id).patch(normalisePatch(req.body) as never, ctx);
    return patched ?? new SCIMMY.Resources.Group(id).read(ctx);
  }

  @Delete('Groups/:id')
  @HttpCode(204)
  @ScimOperation('SCIM: delete a group (its members leave the team; the team stays in the ledger)', [
    404,
    'No such group',
  ])
  @ApiResponse({ status: 204, description: 'Deleted' })
  async deleteGroup(@Param('id', uuidPipe) id: string, @Req() req: ScimRequest): Promise<void> {
    await new SCIMMY.Resources.Group(id).dispose(this.ctx(req));
  }

  private ctx(req: ScimRequest): ScimContext {
    return { service: this.scim, tokenId: req.provisioningTokenId! };
  }

  private prepare(reply: FastifyReply): void {
    const base = this.site.to(SCIM_BASE);
    SCIMMY.Resources.User.basepath(base);
    SCIMMY.Resources.Group.basepath(base);
    SCIMMY.Resources.ResourceType.basepath(base);
    SCIMMY.Resources.Schema.basepath(base);
    SCIMMY.Resources.ServiceProviderConfig.basepath(base);
    reply.header('content-type', `${SCIM_TYPE}; charset=utf-8`);
  }
}

function listConfig(q: ListQuery) {
  const number = (v: string | undefined) => (v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : undefined);
  return {
    ...(q.filter !== undefined ? { filter: q.filter } : {}),
    ...(q.attributes !== undefined ? { attributes: q.attributes } : {}),
    ...(q.excludedAttributes !== undefined ? { excludedAttributes: q.excludedAttributes } : {}),
    ...(q.sortBy !== undefined ? { sortBy: q.sortBy } : {}),
    ...(q.sortOrder !== undefined ? { sortOrder: q.sortOrder } : {}),
    ...(number(q.startIndex) !== undefined ? { startIndex: number(q.startIndex) } : {}),
    ...(number(q.count) !== undefined ? { count: Math.min(number(q.count)!, 1000) } : {}),
  };
}

/**
 * A page the service read in SQL reaches scimmy's ListResponse as starting at 1 (so that it is not
 * sliced again); the answer says where it starts.
 */
function withStartIndex<T>(list: T, startIndex: number | undefined): T {
  if (list instanceof SCIMMY.Messages.ListResponse) list.startIndex = Math.max(startIndex ?? 1, 1);
  return list;
}

/**
 * What Entra ID sends and the RFC allows is normalised before scimmy sees it: operation names in
 * any case ("Replace"), booleans as the strings "True"/"False" (Entra's `active`), and the
 * enterprise extension's manager as a bare id (Entra's default mapping) rather than `{value}`.
 */
export function normalisePatch(body: unknown): unknown {
  if (!body || typeof body !== 'object' || !Array.isArray((body as { Operations?: unknown }).Operations)) return body;
  const message = body as { Operations: Array<Record<string, unknown>> };
  return {
    ...message,
    Operations: message.Operations.map((op) => {
      if (!op || typeof op !== 'object') return op;
      const out: Record<string, unknown> = { ...op };
      if (typeof op.op === 'string') out.op = op.op.toLowerCase();
      const path = typeof op.path === 'string' ? op.path.toLowerCase() : undefined;
      if (path !== undefined) out.value = attribute(path, op.value);
      else if (op.value && typeof op.value === 'object' && !Array.isArray(op.value)) {
        out.value = Object.fromEntries(
          Object.entries(op.value as Record<string, unknown>).map(([k, v]) => [k, attribute(k.toLowerCase(), v)]),
        );
      }
      return out;
    }),
  };
}

const MANAGER = `${SCIMMY.Schemas.EnterpriseUser.definition.id.toLowerCase()}:manager`;

/** One attribute's value, by its lowercased path, as scimmy expects it. */
function attribute(path: string, value: unknown): unknown {
  if (path === 'active') return bool(value);
  if (path === MANAGER && typeof value === 'string') return { value };
  return value;
}

function bool(value: unknown): unknown {
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  return value;
}
