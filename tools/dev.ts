// npm run dev: run the code in workspace/ in watch mode, as npm run step does.
// start-from and exercise replace the folder: dev then runs the step it holds now.
import { existsSync, statSync, watchFile } from 'node:fs';
import path from 'node:path';
import { cli, dim, fail, portArgument, userPath } from './cli.ts';
import { runInForeground, type Foreground } from './launch.ts';
import { rel } from './steps.ts';
import { MANIFEST, defaultWorkspace, describeWorkspace, workspaceTarget } from './workspace.ts';

const usage = `
Usage: npm run dev                  run workspace/ in watch mode
       npm run dev -- --port 3001   on another port
Options:
  --port <port>   the port to listen on (default: PORT, else 3000)
  --dir <folder>  run another workspace than workspace/`;
const { values } = cli(usage, { port: { type: 'string' }, dir: { type: 'string' } }, { max: 0 });
const port = portArgument(values.port) ?? portArgument(process.env.PORT, 'PORT');
const dir = values.dir === undefined ? defaultWorkspace : userPath(values.dir);

/** Run what the workspace holds: the step it is on its way to, its servers, its Try lines. */
function start(): Promise<Foreground> {
  const step = workspaceTarget(dir);
  if (!existsSync(dir) || !step)
    fail(
      `No workspace yet: npm run exercise <n> hands out one (npm run start-from <n> copies a finished step).`,
    );
  const missing = [step.entry, ...(step.also ?? []).map((a) => a.entry)].filter(
    (entry) => !existsSync(path.join(dir, entry)),
  );
  if (missing.length > 0)
    fail(
      `Step ${step.number} runs ${missing.join(' and ')}, which ${rel(dir)}/ does not have yet: create ${missing.length > 1 ? 'them' : 'it'} (see ${rel(dir)}/README.md).`,
    );
  return runInForeground(step, {
    dir,
    port,
    watch: true,
    label: `${rel(dir)}/ (step ${step.number}, ${step.title})`,
    retry: (free) => `npm run dev -- --port ${free}`,
  });
}

/** Which copy of the manifest is there: start-from and exercise write a new one last. */
const manifest = path.join(dir, MANIFEST);
const copy = () => {
  try {
    const { ino, mtimeMs } = statSync(manifest);
    return `${ino}:${mtimeMs}`;
  } catch {
    return undefined;
  }
};

let running = await start();
let started = copy();
let restarting = Promise.resolve();
// Polled by path: a watcher on the folder's files would go with the folder.
watchFile(manifest, { interval: 300 }, () => {
  restarting = restarting.then(async () => {
    const now = copy();
    if (now === undefined || now === started) return;
    started = now;
    console.log(dim(`\n${rel(dir)}/ now holds ${describeWorkspace(dir)}: restarting.\n`));
    await running.stop();
    running = await start();
  });
});
