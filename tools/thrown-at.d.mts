/** Where in the code under test an error was thrown ("workspace/config.ts:48"), when its stack says. */
export function thrownAt(err: unknown): string | undefined;
