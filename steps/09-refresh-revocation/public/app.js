// The page's script: log in with HTTP Basic, keep the access token in memory,
// show its parts, call the API with it, and renew it before it expires with
// the refresh cookie, one refresh for every open tab. Plain JavaScript, no
// build step.

// In memory only. localStorage or sessionStorage would let any script on the
// page read it, so one XSS bug would leak it; a variable dies with the page.
// The refresh token is in an HttpOnly cookie: this script cannot read it.
let token = null;

// Renew this many seconds before exp.
const MARGIN = 30;

const $ = (id) => document.getElementById(id);

// HTTP Basic wants base64 of "user:password" as UTF-8 (RFC 7617 section 2.1);
// btoa alone only takes Latin-1.
function basic(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

function decodePart(part) {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return JSON.parse(
    new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))),
  );
}

function say(message) {
  $('status').textContent = message;
}

// Every request says X-Requested-With: fetch, which the server asks of
// anything that uses the refresh cookie (a form on another site cannot send
// it), and cookies go along to this origin only: /login sets the refresh
// cookie, /auth/... reads it.
async function call(method, path, headers = {}, note = '') {
  const res = await fetch(path, {
    method,
    headers: { 'X-Requested-With': 'fetch', ...headers },
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const body = await res.text();
  const entry = document.createElement('li');
  entry.className = res.ok ? 'ok' : 'refused';
  const challenge = res.headers.get('WWW-Authenticate');
  entry.textContent =
    `${method} ${path}${note} -> ${res.status}` +
    (challenge ? `\nWWW-Authenticate: ${challenge}` : '') +
    `\n${body}`;
  entry.style.whiteSpace = 'pre-wrap';
  $('log').prepend(entry);
  let json;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: res.status, json };
}

function showToken() {
  $('no-token').hidden = token !== null;
  $('token-view').hidden = token === null;
  if (token === null) return;
  const [header, payload, signature] = token.split('.');
  $('token-header').textContent = header;
  $('token-payload').textContent = payload;
  $('token-signature').textContent = signature;
  $('decoded-header').textContent = JSON.stringify(decodePart(header), null, 2);
  $('decoded-payload').textContent = JSON.stringify(
    decodePart(payload),
    null,
    2,
  );
  tick();
}

const secondsLeft = () =>
  decodePart(token.split('.')[1]).exp - Math.floor(Date.now() / 1000);

function tick() {
  if (token === null) return;
  const { exp } = decodePart(token.split('.')[1]);
  const left = secondsLeft();
  const countdown = $('countdown');
  countdown.textContent =
    left > 0
      ? `Expires in ${left} s (exp ${new Date(exp * 1000).toLocaleTimeString()})`
      : `Expired ${-left} s ago: the next call will be refused`;
  countdown.classList.toggle('expired', left <= 0);
  // Renew quietly before it runs out.
  if (left <= MARGIN && refreshing === null) refresh();
}
setInterval(tick, 1000);

// The other tabs of this site: a new token, or a logout, goes to all of them.
const tabs = new BroadcastChannel('jwt-workshop-session');
tabs.onmessage = ({ data }) => {
  if (data.type === 'token') {
    token = data.token;
    showToken();
    say('Another tab renewed the token: this tab uses it too.');
  } else if (data.type === 'logout') {
    loggedOut(data.why, false);
  }
};

function adopt(newToken) {
  token = newToken;
  showToken();
  tabs.postMessage({ type: 'token', token });
}

function loggedOut(why, tellTabs = true) {
  token = null;
  showToken();
  say(`Logged out: ${why}`);
  if (tellTabs) tabs.postMessage({ type: 'logout', why });
}

let refreshing = null;

// #region one-refresh
// One refresh at a time in all tabs (Web Locks): each use
// spends the cookie. A tab that waited takes the token the
// other shared, or refreshes with the cookie it rotated.
function refresh() {
  const before = token;
  const once = async () => {
    if (token !== before && token !== null) return true;
    const { status, json } = await call('POST', '/auth/refresh');
    if (status === 200) adopt(json.token);
    else if (before !== null) loggedOut(json?.message ?? status);
    return status === 200;
  };
  // Web Locks need https or localhost; else, the grace window.
  const locks = navigator.locks;
  const run = locks ? () => locks.request('refresh', once) : once;
  return (refreshing ??= run().finally(() => (refreshing = null)));
}
// #endregion

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const user = $('user').value;
  const { status, json } = await call('GET', '/login', {
    Authorization: basic(user, $('password').value),
  });
  if (status === 200 && json?.token) {
    adopt(json.token);
    say(
      `Logged in as ${user}: token received, valid for ${json.expires_in} s.`,
    );
  } else {
    say(`Login refused: ${status} ${json?.message ?? ''}`);
  }
});

$('call-protected').addEventListener('click', async () => {
  const { status, json } = await call(
    'GET',
    '/protected',
    token ? { Authorization: `Bearer ${token}` } : {},
  );
  say(
    `/protected answered ${status}${json?.error ? ` ${json.error}` : ''}: ${json?.message ?? ''}`,
  );
});

$('call-unprotected').addEventListener('click', async () => {
  const { status } = await call('GET', '/unprotected');
  say(`/unprotected answered ${status}.`);
});

// Flip one character of the claims (the first letter of sub changes case),
// keep the old signature: the server must notice.
function encodePart(value) {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

$('tamper').addEventListener('click', async () => {
  if (token === null)
    return say('Log in first: there is no token to tamper with.');
  const [header, payload, signature] = token.split('.');
  const claims = decodePart(payload);
  const before = String(claims.sub);
  const first = before.charAt(0);
  claims.sub =
    (first === first.toUpperCase()
      ? first.toLowerCase()
      : first.toUpperCase()) + before.slice(1);
  const forged = `${header}.${encodePart(claims)}.${signature}`;
  const { status, json } = await call(
    'GET',
    '/protected',
    { Authorization: `Bearer ${forged}` },
    ` (sub "${before}" changed to "${claims.sub}")`,
  );
  say(
    `Tampered token: /protected answered ${status}` +
      (json?.error ? ` ${json.error}` : '') +
      `: ${json?.message ?? ''}`,
  );
});

$('forget').addEventListener('click', () => {
  token = null;
  showToken();
  say('Token forgotten. Refresh now gets a new one with the cookie.');
});

$('refresh').addEventListener('click', async () => {
  if (await refresh())
    say(
      `Refreshed: a new token, valid for ${secondsLeft()} s, and a new refresh cookie.`,
    );
  else if (token === null)
    say(
      'No refresh: log in first (the refresh cookie is missing, spent or revoked).',
    );
});

$('logout').addEventListener('click', async () => {
  const { status, json } = await call(
    'POST',
    '/auth/logout',
    token ? { Authorization: `Bearer ${token}` } : {},
  );
  if (status === 200)
    loggedOut(
      'this session is revoked; its access token is refused from now on.',
    );
  else say(`Logout failed: ${status} ${json?.message ?? ''}`);
});

$('logout-everywhere').addEventListener('click', async () => {
  if (token === null)
    return say(
      'Log in first: logging out everywhere needs a valid access token.',
    );
  const { status, json } = await call('POST', '/auth/logout-everywhere', {
    Authorization: `Bearer ${token}`,
  });
  if (status === 200)
    loggedOut('every session of this user is revoked, on every device.');
  else say(`Log out everywhere failed: ${status} ${json?.message ?? ''}`);
});

$('lab-copy').addEventListener('click', async () => {
  const { status, json } = await call('POST', '/auth/lab/copy');
  say(
    status === 200
      ? 'Copied, as a thief would. Now press Refresh now, then Replay the copy.'
      : `Copy failed: ${json?.message ?? status}`,
  );
});

$('lab-replay').addEventListener('click', async () => {
  const { status, json } = await call(
    'POST',
    '/auth/lab/replay',
    {},
    ' (the stolen copy)',
  );
  if (status === 200) {
    adopt(json.token);
    say(
      'Replay answered 200: the copy was not spent yet, or was spent within the grace window (a second tab gets the same successor). Refresh, wait 10 s, replay again.',
    );
  } else {
    loggedOut(
      `the replay was refused (${json?.message ?? status}), in every tab.`,
    );
  }
});

// A new tab, or a reload: the refresh cookie, if there is one, logs it in.
refresh().then((ok) =>
  say(
    ok
      ? 'Logged in from the refresh cookie: a new token for this tab.'
      : 'Not logged in: log in as alice / pyconid.',
  ),
);
