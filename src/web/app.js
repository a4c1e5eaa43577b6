// Takes the session token from the fragment the sign-in left (never sent to a server), keeps it for
// this tab, and shows who is signed in.
'use strict';
(async () => {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('session')) {
    sessionStorage.setItem('leeway.session', fragment.get('session'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  const token = sessionStorage.getItem('leeway.session');
  const status = document.getElementById('status');
  const call = (path, init = {}) =>
    fetch(path, { ...init, headers: { ...(init.headers || {}), authorization: `Bearer ${token}` } });
  const me = token ? await call('/v1/me') : null;
  if (!me || me.status !== 200) {
    sessionStorage.removeItem('leeway.session');
    status.textContent = 'You are not signed in.';
    document.getElementById('signed-out').hidden = false;
    return;
  }
  const user = await me.json();
  status.textContent = '';
  document.getElementById('who').textContent = user.displayName;
  document.getElementById('access').textContent = user.access.join(', ');
  const sessions = (await (await call('/v1/me/sessions')).json()).data;
  const list = document.getElementById('sessions');
  for (const s of sessions.filter((x) => x.active)) {
    const item = document.createElement('li');
    item.textContent = `${s.signedInWith === 'oidc' ? 'Identity provider' : 'Sign-in link'}, until ${new Date(s.expiresAt).toLocaleString()}${s.current ? ' (this one)' : ''}`;
    list.append(item);
  }
  document.getElementById('signed-in').hidden = false;
  document.getElementById('sign-out').addEventListener('click', async () => {
    const current = sessions.find((s) => s.current);
    if (current) await call(`/v1/me/sessions/${current.id}`, { method: 'DELETE' });
    sessionStorage.removeItem('leeway.session');
    location.replace('/');
  });
})();
