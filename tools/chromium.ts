// The system's Chromium-based browser, for PDFs of the slides and for the
// browser tests: Chrome, Chromium, Edge or Brave, wherever the usual
// installers put them. The workshop never downloads a browser of its own.
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Where to look, in order, on this platform: CHROME_PATH first. */
export function browserCandidates(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string[] {
  const list: (string | undefined)[] = [env.CHROME_PATH];
  if (platform === 'darwin') {
    const apps = [
      'Google Chrome.app/Contents/MacOS/Google Chrome',
      'Chromium.app/Contents/MacOS/Chromium',
      'Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
      'Brave Browser.app/Contents/MacOS/Brave Browser',
    ];
    // System-wide, then the user's own Applications folder.
    for (const app of apps) list.push(path.posix.join('/Applications', app));
    if (env.HOME) for (const app of apps) list.push(path.posix.join(env.HOME, 'Applications', app));
  } else if (platform === 'win32') {
    const programs = [
      ['Google', 'Chrome', 'Application', 'chrome.exe'],
      ['Chromium', 'Application', 'chrome.exe'],
      ['Microsoft', 'Edge', 'Application', 'msedge.exe'],
      ['BraveSoftware', 'Brave-Browser', 'Application', 'brave.exe'],
    ];
    // Per-user installs (LOCALAPPDATA), 64-bit, then 32-bit Program Files. Edge is on every Windows.
    for (const root of [
      env.LOCALAPPDATA,
      env.ProgramFiles ?? 'C:\\Program Files',
      env['ProgramFiles(x86)'] ?? 'C:\\Program Files (x86)',
    ]) {
      if (root) for (const parts of programs) list.push(path.win32.join(root, ...parts));
    }
  } else {
    for (const dir of [
      '/usr/bin',
      '/usr/local/bin',
      '/snap/bin',
      '/opt/google/chrome',
      '/opt/brave.com/brave',
      '/opt/microsoft/msedge',
    ]) {
      for (const name of [
        'chromium',
        'chromium-browser',
        'google-chrome',
        'google-chrome-stable',
        'chrome',
        'microsoft-edge',
        'microsoft-edge-stable',
        'msedge',
        'brave-browser',
        'brave',
      ]) {
        list.push(path.posix.join(dir, name));
      }
    }
  }
  return list.filter((candidate): candidate is string => Boolean(candidate));
}

/** A Chromium-based browser to drive, or undefined. */
export function findChromium(exists: (file: string) => boolean = existsSync): string | undefined {
  return browserCandidates().find((candidate) => exists(candidate));
}

/** Why no browser was found: where we looked, and how to point us at one. */
export function noBrowser(): string {
  const looked = browserCandidates();
  const shown =
    looked.length > 8 ? [...looked.slice(0, 8), `and ${looked.length - 8} more`] : looked;
  return `No Chrome, Chromium, Edge or Brave found. Looked in: ${shown.join(', ')}. Install one (Debian/Ubuntu: apt-get install chromium), or set CHROME_PATH to its executable.`;
}

/**
 * playwright-core's own --disable-features list (chromiumSwitches.ts, 1.65).
 * Chromium reads only the last --disable-features it is given, so a list of
 * ours must repeat it; test/helpers/browser.ts checks it still does.
 */
export const playwrightDisabledFeatures = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
  'msForceBrowserSignIn',
  'msEdgeUpdateLaunchServicesPreferredVersion',
];

/**
 * Launch options for a headless Chromium on a machine without a network
 * beyond localhost: no background fetches, no sandbox when running as root
 * (CI). Each window Playwright opens (one per page) also preloads the address
 * bar's two popups, each a page of the browser's own with a process of its
 * own: 1.3 CPU s a window in a test run, for an address bar no test types in.
 * Nor does a test need the spare renderer Chromium keeps started for the
 * next tab: without it, the browser tests start 16 processes, not 25 to 30.
 */
export const chromiumLaunch = {
  args: [
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--disable-features=${[...playwrightDisabledFeatures, 'WebUIOmniboxPopup', 'WebUIOmniboxAimPopup', 'SpareRendererForSitePerProcess'].join(',')}`,
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
  ],
  ignoreDefaultArgs: [`--disable-features=${playwrightDisabledFeatures.join(',')}`],
};
