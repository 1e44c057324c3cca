// Checkpoint 08: step 06's server with a page that shows the token at work,
// tested in a real headless Chromium.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findChromium } from '../tools/chromium.ts';
import {
  browserSkip,
  launchChromium,
  waitForText,
  type Browser,
  type Page,
} from './helpers/browser.ts';
import {
  withFastUsers,
  START,
  bearerRules,
  hardened,
  loginRules,
  type LoginLimits,
  type Throttle,
  hmacThrottleRules,
  type HmacLoginStep,
} from './helpers/hardened.ts';
import { get, show } from './helpers/http.ts';
import { checkpoint, codeDir, exportedApp, importStepFiles, serve } from './helpers/step.ts';
import { hmacToken } from './helpers/tokens.ts';

interface Step08 {
  loadConfig(env: Record<string, string>): {
    now: () => number;
    issuer: string;
    audience: string;
    throttle: Throttle;
  };
  createApp(config: unknown): unknown;
  LoginThrottle: new (limits: LoginLimits, now: () => number) => Throttle;
  LOGIN_LIMITS: LoginLimits;
}

const SECRET = 'a-test-key-of-32-bytes-or-more-0123456789';

checkpoint(8, () => {
  let step: Step08;
  before(async () => {
    step = (await importStepFiles(8, ['app.ts', 'config.ts', 'throttle.ts'])) as unknown as Step08;
  });
  const h = hardened({
    alg: 'HS256',
    loginUrl: () => server.url,
    apiUrl: () => server.url,
    sign: (header, claims) => hmacToken(header, claims, SECRET),
  });
  const server = serve(async () => {
    const config = step.loadConfig({ JWT_SECRET: SECRET });
    withFastUsers(config);
    config.now = () => h.clock.now;
    return exportedApp({ app: step.createApp(config) }, 8);
  });

  describe('the page', () => {
    test('is served at / with a CSP that allows no inline script, nosniff and no Referer', async () => {
      const res = await get(`${server.url}/`);
      assert.equal(res.status, 200, `GET / serves the page: ${show(res)}`);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/, 'Scripts only from this origin');
      assert.doesNotMatch(
        csp,
        /unsafe-inline|unsafe-eval/,
        'No inline script: an injected <script> must not run',
      );
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    });

    test('has no inline script or handler, and keeps the token out of storage', async () => {
      const html = readFileSync(path.join(codeDir(8), 'public', 'index.html'), 'utf8');
      assert.doesNotMatch(
        html,
        /<script(?![^>]*\bsrc=)[^>]*>/,
        'Every <script> has a src (the CSP blocks inline ones)',
      );
      assert.doesNotMatch(
        html,
        /\son[a-z]+=/i,
        'No onclick= and the like: handlers live in app.js',
      );
      const js = readFileSync(path.join(codeDir(8), 'public', 'app.js'), 'utf8').replace(
        /\/\/.*$/gm,
        '',
      );
      assert.doesNotMatch(
        js,
        /localStorage|sessionStorage|document\.cookie/,
        'The token lives in a variable only',
      );
    });

    test('serves its script and style with their types, and nothing else from the folder', async () => {
      assert.match(
        (await get(`${server.url}/app.js`)).headers.get('content-type') ?? '',
        /^text\/javascript/,
      );
      assert.match(
        (await get(`${server.url}/style.css`)).headers.get('content-type') ?? '',
        /^text\/css/,
      );
      for (const probe of ['/index.html', '/../app.ts', '/public/app.js', '/%2e%2e/app.ts']) {
        assert.equal((await get(`${server.url}${probe}`)).status, 404, `${probe} is not served`);
      }
    });
  });

  // Step 08 serves step 06's API: the same rules hold, so a rule changed in
  // one step and not the other fails here.
  describe('GET /login, as in step 06', () => loginRules(h));
  describe('GET /protected, as in step 06', () => bearerRules(h));
  describe('login throttling, as in step 06', () =>
    hmacThrottleRules(8, () => step as unknown as HmacLoginStep, SECRET));

  const chromium = findChromium();
  const skip = browserSkip(chromium);
  describe('in a real browser', { skip }, () => {
    let browser: Browser;
    before(async () => {
      assert.ok(
        chromium,
        'Under CI=true the browser test must run: install Chromium (.ci/run does)',
      );
      browser = await launchChromium(chromium!);
    });
    after(() => browser?.close());

    async function open(viewport = { width: 1280, height: 900 }): Promise<Page> {
      const page = await browser.newPage({ viewport });
      page.setDefaultTimeout(10_000);
      // The page's clock stands still at START + 1 s, whatever the machine's
      // load; the server's clock is START. Tests move both.
      // Installed ten seconds early: pauseAt may only go forward, and on a busy
      // machine a second can pass between the two calls.
      await page.clock.install({ time: START * 1000 - 10_000 });
      await page.clock.pauseAt(START * 1000 + 1000);
      await page.goto(server.url);
      return page;
    }
    const status = (page: Page) => page.locator('#status').textContent();
    const waitForStatus = (page: Page, pattern: RegExp) => waitForText(page, 'status', pattern);
    const focused = (page: Page) => page.evaluate<string | undefined>('document.activeElement?.id');

    test('keyboard only: log in, see the claims, call /protected, tamper, let it expire', async () => {
      const start = h.clock.now;
      const page = await open();
      try {
        await page.keyboard.press('Tab');
        assert.equal(await focused(page), 'user', 'Tab reaches the user name first');
        await page.keyboard.press('Tab');
        assert.equal(await focused(page), 'password', 'then the password');
        await page.keyboard.type('pyconid');
        await page.keyboard.press('Enter');
        await waitForStatus(page, /Logged in as alice/);

        const claims = JSON.parse((await page.locator('#decoded-payload').textContent()) ?? '{}');
        assert.equal(claims.sub, 'alice', 'The decoded claims show the user');
        assert.equal(claims.exp, START + 40);
        const parts = await Promise.all(
          ['header', 'payload', 'signature'].map((p) => page.locator(`#token-${p}`).textContent()),
        );
        assert.ok(
          parts.every((p) => p && p.length > 10),
          'The three parts are shown apart',
        );
        assert.match(
          (await page.locator('#countdown').textContent()) ?? '',
          /Expires in 39 s/,
          'The countdown shows exp - now',
        );
        assert.deepEqual(
          await page.evaluate('[localStorage.length, sessionStorage.length, document.cookie]'),
          [0, 0, ''],
          'The token is in memory only',
        );

        await page.keyboard.press('Tab'); // Log in
        await page.keyboard.press('Tab');
        assert.equal(await focused(page), 'call-protected', 'Tab reaches the API buttons');
        await page.keyboard.press('Enter');
        await waitForStatus(page, /\/protected answered 200/);

        await page.keyboard.press('Tab');
        await page.keyboard.press('Tab');
        assert.equal(await focused(page), 'tamper');
        await page.keyboard.press('Enter');
        await waitForStatus(
          page,
          /Tampered token: \/protected answered 401 invalid_token: The token signature is invalid/,
        );
        assert.match(
          (await page.locator('#log li').first().textContent()) ?? '',
          /WWW-Authenticate: Bearer realm="jwt-koa-workshop", error="invalid_token"/,
          'The log shows the challenge',
        );

        h.clock.now = START + 51;
        await page.clock.fastForward(50_000);
        await waitForText(page, 'countdown', /Expired 11 s ago/);
        await page.locator('#call-protected').focus();
        await page.keyboard.press('Enter');
        await waitForStatus(page, /\/protected answered 401 invalid_token/);
      } finally {
        h.clock.now = start;
        await page.close();
      }
    });

    test('a wrong password shows the 401, and the page reads at 200% zoom', async () => {
      // 640 px wide is a 1280 px window at 200% zoom.
      const page = await open({ width: 640, height: 450 });
      try {
        await page.getByLabel('Password').fill('wrong');
        await page.getByRole('button', { name: 'Log in' }).click();
        await waitForStatus(page, /Login refused: 401/);
        assert.equal(await page.locator('#token-view').isHidden(), true, 'No token is shown');
        assert.equal(
          await page.locator('#status').getAttribute('aria-live'),
          'polite',
          'Status changes are announced',
        );
        assert.match((await status(page)) ?? '', /user name or password is wrong/);

        await page.getByLabel('Password').fill('pyconid');
        await page.getByRole('button', { name: 'Log in' }).click();
        await waitForStatus(page, /Logged in/);
        const [scroll, width] = await page.evaluate<[number, number]>(
          '[document.documentElement.scrollWidth, window.innerWidth]',
        );
        assert.ok(scroll <= width, `At 200% zoom nothing scrolls sideways: ${scroll} > ${width}`);
      } finally {
        await page.close();
      }
    });
  });
});
