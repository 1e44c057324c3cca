// A headless Chromium through playwright-core, with the few calls the browser
// tests make typed here: playwright's own type files are larger than the rest
// of the workshop together and would double the time of the typecheck.
// Expressions evaluated in the page are strings: no DOM types needed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromiumLaunch, noBrowser, playwrightDisabledFeatures } from '../../tools/chromium.ts';
import { inProof } from './step.ts';

export interface Locator {
  textContent(): Promise<string | null>;
  getAttribute(name: string): Promise<string | null>;
  isHidden(): Promise<boolean>;
  fill(value: string): Promise<void>;
  click(): Promise<void>;
  focus(): Promise<void>;
  first(): Locator;
  isVisible(): Promise<boolean>;
  /** Wait until the element is in the page and visible. */
  waitFor(): Promise<void>;
}

export interface Cookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  httpOnly: boolean;
  secure: boolean;
  sameSite: 'Strict' | 'Lax' | 'None';
}

export interface Page {
  goto(url: string): Promise<unknown>;
  close(): Promise<void>;
  setDefaultTimeout(ms: number): void;
  clock: {
    install(options: { time: number }): Promise<void>;
    pauseAt(time: number): Promise<void>;
    fastForward(ms: number): Promise<void>;
  };
  keyboard: { press(key: string): Promise<void>; type(text: string): Promise<void> };
  /** Evaluate a JavaScript expression in the page. */
  evaluate<T>(expression: string): Promise<T>;
  /**
   * Wait until a function, run in the page, returns true. A function rather
   * than a string: the page's CSP forbids eval, and rightly.
   */
  waitForFunction<A>(predicate: (arg: A) => boolean, arg: A): Promise<unknown>;
  locator(selector: string): Locator;
  getByLabel(text: string): Locator;
  getByRole(role: string, options: { name: string }): Locator;
  /** Wait until the page has navigated to this address (a string must match exactly). */
  waitForURL(url: string | RegExp): Promise<void>;
  /** The page's HTML as it is now. */
  content(): Promise<string>;
  /** The page's browser context: its cookies, every origin's. */
  context(): { cookies(): Promise<Cookie[]> };
}

/** Pages that share one cookie jar, as the tabs of one browser do. */
export interface BrowserContext {
  newPage(): Promise<Page>;
  cookies(): Promise<Cookie[]>;
  close(): Promise<void>;
}

export interface Browser {
  /** A page in a context of its own: cookies of its own. */
  newPage(options: { viewport: { width: number; height: number } }): Promise<Page>;
  newContext(options: { viewport: { width: number; height: number } }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** The page's document, as much of it as the predicates read. */
interface PageDocument {
  getElementById(id: string): { textContent: string | null } | null;
}

/** Wait until the element's text matches. */
export function waitForText(page: Page, id: string, pattern: RegExp): Promise<unknown> {
  return page.waitForFunction(
    ([elementId, source]) => {
      const { document } = globalThis as unknown as { document: PageDocument };
      return new RegExp(source).test(document.getElementById(elementId)?.textContent ?? '');
    },
    [id, pattern.source] as const,
  );
}

/** Whether a browser test runs: skipped with a reason without a browser, but never under CI=true, nor in the proof. */
export function browserSkip(chromium: string | undefined): false | string {
  if (inProof) return 'not needed to show that the exercise fails';
  if (chromium || process.env.CI) return false;
  return noBrowser();
}

/**
 * Our --disable-features list must repeat Playwright's (tools/chromium.ts):
 * after an upgrade of playwright-core that changed it, say so, rather than
 * drop what the new list turns off.
 */
function checkPlaywrightFeatures(): void {
  const bundle = createRequire(import.meta.url).resolve('playwright-core/lib/coreBundle');
  const list = /disabledFeatures = \[([\s\S]*?)\]\.filter/.exec(readFileSync(bundle, 'utf8'))?.[1];
  const theirs = [...(list ?? '').matchAll(/^\s*"([^"]+)"/gm)].map((m) => m[1]);
  if (theirs.join(',') !== playwrightDisabledFeatures.join(','))
    throw new Error(
      `playwright-core's own --disable-features list is now ${JSON.stringify(theirs)}: copy it into playwrightDisabledFeatures in tools/chromium.ts`,
    );
}

// One Chromium for every test file of a test process (its files run side by
// side): starting a browser costs a second of CPU. Each caller gets a handle
// whose close() lets go of it; the last one closes the browser.
let shared: { browser: Promise<Browser>; users: number } | undefined;

export async function launchChromium(executablePath: string): Promise<Browser> {
  if (!shared) {
    checkPlaywrightFeatures();
    const name = 'playwright-core'; // a variable: TypeScript then leaves its types unread
    const launch = import(name).then(
      ({ chromium }: { chromium: { launch(options: object): Promise<Browser> } }) =>
        chromium.launch({ executablePath, ...chromiumLaunch }),
    );
    shared = { browser: launch, users: 0 };
  }
  const mine = shared;
  mine.users++;
  const browser = await mine.browser;
  let closed = false;
  return {
    newPage: (options) => browser.newPage(options),
    newContext: (options) => browser.newContext(options),
    async close() {
      if (closed) return;
      closed = true;
      if (--mine.users > 0) return;
      if (shared === mine) shared = undefined;
      await browser.close();
    },
  };
}
