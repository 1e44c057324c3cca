// npm run dev: run the code in workspace/ in watch mode, as npm run step does.
import { existsSync } from 'node:fs';
import { cli, fail } from './cli.ts';
import { foreground, launchStep, portsFrom } from './launch.ts';
import { rel } from './steps.ts';
import { defaultWorkspace, workspaceStep } from './workspace.ts';

const usage = `
Usage: npm run dev                  run workspace/ in watch mode
       npm run dev -- --port 3001   on another port
Options:
  --port <port>  the port to listen on (default: PORT, else 3000)`;
const { values } = cli(usage, { port: { type: 'string' } });
const step = workspaceStep(defaultWorkspace);
if (!existsSync(defaultWorkspace) || !step) fail(`No workspace yet: npm run start-from <n> copies a step into ${rel(defaultWorkspace)}/.`);
foreground(launchStep(step, { dir: defaultWorkspace, watch: true, ports: portsFrom(step, values.port ?? process.env.PORT) }));
