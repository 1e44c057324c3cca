// The system Chromium, for PDFs of the slides and for the browser test. The
// workshop never downloads a browser of its own.
import { existsSync } from 'node:fs';

/** A Chromium or Chrome to drive: CHROME_PATH, or a usual place for one. */
export function findChromium(): string | undefined {
  const candidates = [
    process.env.CHROME_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
  ];
  return candidates.find((candidate) => candidate && existsSync(candidate));
}

/**
 * Flags for a headless Chromium on a machine without a network beyond
 * localhost: no background fetches, no sandbox when running as root (CI).
 */
export const chromiumArgs = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];
