import { useEffect, useState } from 'preact/hooks';
import type { Schemas } from '../api/client';
import { formatDate, useApp } from '../app/context';
import { AddByName, ErrorNote, Section, ShownOnce, Table, useAction } from '../app/ui';

type User = Schemas['UserView'];
type Access = User['access'][number];
const ACCESS: Access[] = ['agent', 'leader', 'finance', 'auditor', 'admin', 'integration'];

/** Ticks a level: an integration (a program) holds no other level, so ticking one clears the other. */
function tick(now: Access[], level: Access, on: boolean): Access[] {
  if (!on) return now.filter((x) => x !== level);
  return level === 'integration' ? ['integration'] : [...now.filter((x) => x !== 'integration'), level];
}

/** Admins: users (access, role, team, active), their tokens and sign-in links, teams, the audit log. */
export function AdminScreen() {
  const { api, t } = useApp();
  const [users, setUsers] = useState<User[]>([]);
  const [roles, setRoles] = useState<Schemas['RoleView'][]>([]);
  const [teams, setTeams] = useState<Schemas['TeamView'][]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [moreUsers, setMoreUsers] = useState<string | null>(null);
  const [busy, error, run] = useAction();
  const load = async () => {
    // Every page shown so far is read again, so a change shows wherever the user is in the list.
    const pages = Math.max(1, Math.ceil(users.length / 200));
    let listed: User[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < pages; i++) {
      const page: Schemas['UserViewPage'] = await api.get<Schemas['UserViewPage']>(
        `/v1/users?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      listed = [...listed, ...page.data];
      cursor = page.nextCursor ?? null;
      if (!cursor) break;
    }
    setUsers(listed);
    setMoreUsers(cursor);
    setRoles((await api.get<Schemas['RoleViewPage']>('/v1/roles?limit=200')).data);
    setTeams((await api.get<Schemas['TeamViewPage']>('/v1/teams?limit=200')).data);
  };
  const more = (cursor: string) =>
    run(async () => {
      const page = await api.get<Schemas['UserViewPage']>(`/v1/users?limit=200&cursor=${encodeURIComponent(cursor)}`);
      setUsers((now) => [...now, ...page.data]);
      setMoreUsers(page.nextCursor ?? null);
    });
  useEffect(() => void run(load), []);
  const nameOf = (list: Array<{ id: string; name: string }>, id: string | null) =>
    list.find((x) => x.id === id)?.name ?? '—';
  const user = users.find((u) => u.id === selected);
  return (
    <div>
      <Section title={t('admin.users')}>
        <ErrorNote error={error} />
        <Table
          caption={t('admin.users')}
          rows={users}
          columns={[
            {
              label: t('admin.displayName'),
              cell: (u) => (
                <button type="button" class="link" aria-pressed={u.id === selected} onClick={() => setSelected(u.id)}>
                  {u.displayName}
                </button>
              ),
            },
            { label: t('admin.access'), cell: (u) => u.access.map((a) => t(`access.${a}`)).join(', ') },
            { label: t('admin.role'), cell: (u) => nameOf(roles, u.roleId) },
            { label: t('admin.team'), cell: (u) => nameOf(teams, u.teamId) },
            { label: t('admin.active'), cell: (u) => (u.active ? t('app.yes') : t('app.no')) },
          ]}
        />
        {moreUsers && (
          <button type="button" disabled={busy} onClick={() => void more(moreUsers)}>
            {t('admin.more')}
          </button>
        )}
        <NewUser roles={roles} teams={teams} onMade={async (id) => (await load(), setSelected(id))} />
      </Section>
      {user && <UserPanel key={user.id} user={user} roles={roles} teams={teams} onChange={load} />}
      <Teams teams={teams} onChange={load} />
      <Audit users={users} />
    </div>
  );
}

/** A user's fields as the admin edits them: empty strings for none. */
interface UserFields {
  name: string;
  access: Access[];
  roleId: string;
  teamId: string;
  externalRef: string;
}

/** The fields of a user, for a new one and for a change alike. */
function UserFieldset(props: {
  value: UserFields;
  onChange: (next: UserFields) => void;
  roles: Schemas['RoleView'][];
  teams: Schemas['TeamView'][];
}) {
  const { t } = useApp();
  const v = props.value;
  const set = (patch: Partial<UserFields>) => props.onChange({ ...v, ...patch });
  const text = (e: Event) => (e.target as HTMLInputElement | HTMLSelectElement).value;
  return (
    <>
      <label>
        {t('admin.displayName')}
        <input required value={v.name} onInput={(e) => set({ name: text(e) })} />
      </label>
      <fieldset>
        <legend>{t('admin.access')}</legend>
        {ACCESS.map((a) => (
          <label class="check">
            <input
              type="checkbox"
              checked={v.access.includes(a)}
              onChange={(e) => set({ access: tick(v.access, a, (e.target as HTMLInputElement).checked) })}
            />
            {t(`access.${a}`)}
          </label>
        ))}
      </fieldset>
      <label>
        {t('admin.role')}
        <select value={v.roleId} onChange={(e) => set({ roleId: text(e) })}>
          <option value="">—</option>
          {props.roles.map((r) => (
            <option value={r.id}>{r.name}</option>
          ))}
        </select>
      </label>
      <label>
        {t('admin.team')}
        <select value={v.teamId} onChange={(e) => set({ teamId: text(e) })}>
          <option value="">—</option>
          {props.teams.map((x) => (
            <option value={x.id}>{x.name}</option>
          ))}
        </select>
      </label>
      <label>
        {t('admin.externalRef')}
        <input value={v.externalRef} onInput={(e) => set({ externalRef: text(e) })} />
      </label>
    </>
  );
}

const NO_USER: UserFields = { name: '', access: ['agent'], roleId: '', teamId: '', externalRef: '' };

function NewUser(props: {
  roles: Schemas['RoleView'][];
  teams: Schemas['TeamView'][];
  onMade: (id: string) => Promise<void>;
}) {
  const { api, t } = useApp();
  const [fields, setFields] = useState<UserFields>(NO_USER);
  const [busy, error, run] = useAction();
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          const made = await api.post<User>('/v1/users', {
            displayName: fields.name.trim(),
            access: fields.access,
            ...(fields.roleId ? { roleId: fields.roleId } : {}),
            ...(fields.teamId ? { teamId: fields.teamId } : {}),
            ...(fields.externalRef.trim() ? { externalRef: fields.externalRef.trim() } : {}),
          });
          setFields({ ...fields, name: '', externalRef: '' });
          await props.onMade(made.id);
        });
      }}
    >
      <h3>{t('admin.newUser')}</h3>
      <UserFieldset value={fields} onChange={setFields} roles={props.roles} teams={props.teams} />
      <button type="submit" disabled={busy || !fields.name.trim() || fields.access.length === 0}>
        {t('app.add')}
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

/** What an admin may change of a user: access, role, team, name and the identity provider's reference. */
function EditUser(props: {
  user: User;
  roles: Schemas['RoleView'][];
  teams: Schemas['TeamView'][];
  onSaving: () => void;
  onSaved: () => Promise<void>;
}) {
  const { api, t } = useApp();
  const u = props.user;
  const [fields, setFields] = useState<UserFields>({
    name: u.displayName,
    access: u.access,
    roleId: u.roleId ?? '',
    teamId: u.teamId ?? '',
    externalRef: u.externalRef ?? '',
  });
  const [busy, error, run] = useAction();
  // Only what changed is sent, so a save never undoes a change made meanwhile to another field.
  const changes = {
    ...(fields.name.trim() !== u.displayName ? { displayName: fields.name.trim() } : {}),
    ...(fields.access.join() !== u.access.join() ? { access: fields.access } : {}),
    ...((fields.roleId || null) !== u.roleId ? { roleId: fields.roleId || null } : {}),
    ...((fields.teamId || null) !== u.teamId ? { teamId: fields.teamId || null } : {}),
    ...((fields.externalRef.trim() || null) !== u.externalRef
      ? { externalRef: fields.externalRef.trim() || null }
      : {}),
  };
  const changed = Object.keys(changes).length > 0;
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSaving();
        void run(async () => {
          await api.patch(`/v1/users/${u.id}`, changes);
          await props.onSaved();
        });
      }}
    >
      <h3>{t('admin.editUser')}</h3>
      <UserFieldset value={fields} onChange={setFields} roles={props.roles} teams={props.teams} />
      <button type="submit" disabled={busy || !changed || !fields.name.trim() || fields.access.length === 0}>
        {t('admin.save')}
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

function UserPanel(props: {
  user: User;
  roles: Schemas['RoleView'][];
  teams: Schemas['TeamView'][];
  onChange: () => Promise<void>;
}) {
  const { api, t, locale } = useApp();
  const u = props.user;
  const [tokens, setTokens] = useState<Schemas['TokenView'][]>([]);
  const [label, setLabel] = useState('');
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, error, run] = useAction();
  const load = () => api.get<Schemas['TokenListView']>(`/v1/users/${u.id}/tokens`).then((l) => setTokens(l.data));
  useEffect(() => void run(load), []);
  return (
    <Section title={u.displayName} id="user-panel">
      <ErrorNote error={error} />
      <div class="inline">
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void run(
              async () => (
                await api.patch(`/v1/users/${u.id}`, { active: !u.active }),
                await props.onChange(),
                await load()
              ),
            )
          }
        >
          {u.active ? t('admin.deactivate') : t('admin.reactivate')}
        </button>
        <button
          type="button"
          disabled={busy || !u.active || u.access.includes('integration')}
          onClick={() =>
            void run(async () => {
              const link = await api.post<Schemas['IssuedLinkView']>(`/v1/users/${u.id}/sign-in-links`);
              setSecret({ label: t('admin.signInLink'), value: link.url });
            })
          }
        >
          {t('admin.signInLink')}
        </button>
      </div>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const issued = await api.post<Schemas['IssuedTokenView']>(
              `/v1/users/${u.id}/tokens`,
              label.trim() ? { label: label.trim() } : {},
            );
            setSecret({ label: t('admin.issueToken'), value: issued.token });
            setLabel('');
            await load();
          });
        }}
      >
        <label>
          {t('admin.tokenLabel')}
          <input value={label} onInput={(e) => setLabel((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" disabled={busy || !u.active}>
          {t('admin.issueToken')}
        </button>
      </form>
      {secret && <ShownOnce label={secret.label} value={secret.value} />}
      {/* Keyed by the user's version: after a save (or any change) the form shows what is stored now. */}
      <EditUser
        key={u.updatedAt}
        user={u}
        roles={props.roles}
        teams={props.teams}
        onSaving={() => setSaved(false)}
        onSaved={async () => (await props.onChange(), setSaved(true))}
      />
      {saved && <p role="status">{t('admin.saved')}</p>}
      <Table
        caption={t('admin.tokens')}
        rows={tokens}
        columns={[
          {
            label: t('admin.kind'),
            cell: (x) => (x.kind === 'session' ? t(`sessions.via.${x.signedInWith ?? 'link'}`) : (x.label ?? 'API')),
          },
          { label: t('admin.lastUsed'), cell: (x) => (x.lastUsedAt ? formatDate(x.lastUsedAt, locale) : '—') },
          { label: t('admin.expires'), cell: (x) => (x.expiresAt ? formatDate(x.expiresAt, locale) : '—') },
          { label: t('admin.active'), cell: (x) => (x.active ? t('app.yes') : t('app.no')) },
          {
            label: '',
            cell: (x) =>
              x.active && (
                <button
                  type="button"
                  class="link"
                  onClick={() => void run(async () => (await api.delete(`/v1/tokens/${x.id}`), await load()))}
                >
                  {t('admin.revoke')}
                </button>
              ),
          },
        ]}
      />
    </Section>
  );
}

function Teams(props: { teams: Schemas['TeamView'][]; onChange: () => Promise<void> }) {
  const { api, t } = useApp();
  const [busy, error, run] = useAction();
  return (
    <Section title={t('admin.teams')}>
      <ul>
        {props.teams.map((x) => (
          <li>{x.name}</li>
        ))}
      </ul>
      <AddByName
        label={t('admin.teamName')}
        busy={busy}
        onAdd={(name) => run(async () => (await api.post('/v1/teams', { name }), await props.onChange()))}
      />
      <ErrorNote error={error} />
    </Section>
  );
}

function Audit(props: { users: User[] }) {
  const { api, t, locale } = useApp();
  const who = (id: string | null) =>
    id === null ? t('admin.system') : (props.users.find((u) => u.id === id)?.displayName ?? id);
  const [page, setPage] = useState<Schemas['AuditEventViewPage'] | null>(null);
  const [busy, error, run] = useAction();
  const load = (cursor?: string) =>
    run(async () => {
      const next = await api.get<Schemas['AuditEventViewPage']>(
        `/v1/audit?limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      setPage((prev) => (cursor && prev ? { data: [...prev.data, ...next.data], nextCursor: next.nextCursor } : next));
    });
  // Read again whenever the users are (after every change made on this screen), newest first.
  useEffect(() => void load(), [props.users]);
  return (
    <Section title={t('admin.audit')}>
      <ErrorNote error={error} />
      {page && (
        <Table
          caption={t('admin.audit')}
          rows={page.data}
          columns={[
            { label: t('admin.when'), cell: (e) => formatDate(e.at, locale) },
            { label: t('admin.actor'), cell: (e) => who(e.actorId) },
            { label: t('admin.action'), cell: (e) => <code>{e.action}</code> },
            {
              label: t('admin.subject'),
              cell: (e) =>
                e.subjectType === 'user' && e.subjectId ? who(e.subjectId) : `${e.subjectType} ${e.subjectId ?? ''}`,
            },
            {
              label: t('admin.details'),
              cell: (e) =>
                Object.keys(e.details).length > 0 && (
                  <details>
                    <summary>{t('admin.details')}</summary>
                    <pre>
                      {JSON.stringify(e.details, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v), 2)}
                    </pre>
                  </details>
                ),
            },
          ]}
        />
      )}
      {page?.nextCursor && (
        <button type="button" disabled={busy} onClick={() => void load(page.nextCursor!)}>
          {t('admin.more')}
        </button>
      )}
    </Section>
  );
}
