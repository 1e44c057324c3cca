// npm run dev: run the code in workspace/ in watch mode, as npm run step does.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { cli, fail, portArgument } from './cli.ts';
import { runInForeground } from './launch.ts';
import { rel } from './steps.ts';
import { defaultWorkspace, workspaceTarget } from './workspace.ts';

const usage = `
Usage: npm run dev                  run workspace/ in watch mode
       npm run dev -- --port 3001   on another port
Options:
  --port <port>  the port to listen on (default: PORT, else 3000)`;
const { values } = cli(usage, { port: { type: 'string' } }, { max: 0 });
const port = portArgument(values.port) ?? portArgument(process.env.PORT, 'PORT');
// The step the workspace is on its way to: its servers, its Try lines.
const step = workspaceTarget(defaultWorkspace);
if (!existsSync(defaultWorkspace) || !step) fail(`No workspace yet: npm run exercise <n> hands out one (npm run start-from <n> copies a finished step).`);
const missing = [step.entry, ...(step.also ?? []).map((a) => a.entry)].filter((entry) => !existsSync(path.join(defaultWorkspace, entry)));
if (missing.length > 0) fail(`Step ${step.number} runs ${missing.join(' and ')}, which ${rel(defaultWorkspace)}/ does not have yet: create ${missing.length > 1 ? 'them' : 'it'} (see ${rel(defaultWorkspace)}/README.md).`);
await runInForeground(step, {
  dir: defaultWorkspace,
  port,
  watch: true,
  label: `${rel(defaultWorkspace)}/ (step ${step.number}, ${step.title})`,
  retry: (free) => `npm run dev -- --port ${free}`,
});
