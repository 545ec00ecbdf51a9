// The page never sees a token: it calls the BFF on its own origin with
// the X-CSRF header, and the BFF adds the token on the way to the API.
const h = {'X-CSRF': '1'};
const $ = (id) => document.getElementById(id);

async function refresh() {
  const r = await fetch('/bff/session', {headers: h});
  const s = r.ok ? await r.json() : {};
  $('status').textContent = s.authenticated ? 'Signed in.' : 'Not signed in.';
  $('login').hidden = !!s.authenticated;
  $('call').hidden = $('logout').hidden = !s.authenticated;
}

$('call').addEventListener('click', async () => {
  const r = await fetch('/bff/api/api/hello', {headers: h});
  if (r.status === 401) { location.href = '/bff/login?returnTo=/'; return; }
  $('result').textContent = r.status + ' ' + await r.text();
});

$('logout').addEventListener('click', async () => {
  await fetch('/bff/logout', {method: 'POST', headers: h});
  $('result').textContent = '';
  refresh();
});

refresh();
