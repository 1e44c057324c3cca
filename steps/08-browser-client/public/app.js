// The page's script: log in with HTTP Basic, keep the token in memory, show
// its parts, call the API with it. Plain JavaScript, no build step.

// #region memory
// In memory only: stored, any script on the page could read it at any time
// and keep it. An injected script can still use it while the page is open
// (the CSP keeps injected scripts out; step 09 keeps sessions short).
let token = null;
// #endregion

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

// #region call-api
// Every request: credentials 'omit' so that a 401 with a Basic challenge is
// handed to us instead of making the browser pop up its own login dialog.
async function call(method, path, headers = {}, note = '') {
  const init = { method, headers, credentials: 'omit', cache: 'no-store' };
  const res = await fetch(path, init);
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
  // #region hide-call-api
  let json;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: res.status, json };
  // #endregion
}
// #endregion

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

function tick() {
  if (token === null) return;
  const { exp } = decodePart(token.split('.')[1]);
  const left = exp - Math.floor(Date.now() / 1000);
  const countdown = $('countdown');
  countdown.textContent =
    left > 0
      ? `Expires in ${left} s (exp ${new Date(exp * 1000).toLocaleTimeString()})`
      : `Expired ${-left} s ago: the next call will be refused`;
  countdown.classList.toggle('expired', left <= 0);
}
setInterval(tick, 1000);

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const user = $('user').value;
  const { status, json } = await call('GET', '/login', {
    Authorization: basic(user, $('password').value),
  });
  if (status === 200 && json?.token) {
    token = json.token;
    showToken();
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
  // #region tamper
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
  // #endregion
  say(
    `Tampered token: /protected answered ${status}` +
      (json?.error ? ` ${json.error}` : '') +
      `: ${json?.message ?? ''}`,
  );
});

$('forget').addEventListener('click', () => {
  token = null;
  showToken();
  say('Token forgotten.');
});
