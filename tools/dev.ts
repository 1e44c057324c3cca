// npm run dev: run the code in workspace/ in watch mode, as npm run step does.
import { existsSync } from 'node:fs';
import { cli, fail, portArgument } from './cli.ts';
import { runInForeground } from './launch.ts';
import { rel } from './steps.ts';
import { defaultWorkspace, workspaceStep } from './workspace.ts';

const usage = `
Usage: npm run dev                  run workspace/ in watch mode
       npm run dev -- --port 3001   on another port
Options:
  --port <port>  the port to listen on (default: PORT, else 3000)`;
const { values } = cli(usage, { port: { type: 'string' } }, { max: 0 });
const port = portArgument(values.port) ?? portArgument(process.env.PORT, 'PORT');
const step = workspaceStep(defaultWorkspace);
if (!existsSync(defaultWorkspace) || !step) fail(`No workspace yet: npm run start-from <n> copies a step into ${rel(defaultWorkspace)}/.`);
await runInForeground(step, {
  dir: defaultWorkspace,
  port,
  watch: true,
  label: `${rel(defaultWorkspace)}/ (from step ${step.number})`,
  retry: (free) => `npm run dev -- --port ${free}`,
});
