// Sign-in page: trades a sign-in link (its secret is in the fragment, never sent to a server) for a
// session, on a click, so that a link scanner opening the page does not use the link up.
'use strict';
(async () => {
  const status = document.getElementById('status');
  const link = new URLSearchParams(location.hash.slice(1)).get('link');
  if (link) {
    history.replaceState(null, '', location.pathname);
    document.getElementById('with-link').hidden = false;
    document.getElementById('use-link').addEventListener('click', async () => {
      status.textContent = 'Signing in…';
      const res = await fetch('/v1/sessions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ link }),
      });
      const body = await res.json();
      if (res.status !== 201) {
        status.textContent = body.detail || 'This sign-in link cannot be used.';
        return;
      }
      location.replace(`/#session=${body.token}`);
    });
    return;
  }
  const options = await (await fetch('/v1/sign-in')).json();
  document.getElementById(options.oidc ? 'with-provider' : 'no-way').hidden = false;
})();
