// npm run bench:loop: how fast the learner's loop is. Three figures, each the
// median of several runs on a workspace copy of step 04:
//  - npm run check -- 4 --dir <workspace>: from typing the command to the verdict;
//  - npm run dev: from saving a file to the restarted server answering with the change;
//  - npm run dev: from start-from replacing the workspace to the new step answering.
// Figures, never assertions: the goal is under a second for the first two on
// 2 cores, and 8 s for the third.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { follow } from '../tools/child.ts';
import { cli } from '../tools/cli.ts';
import { launchStep } from '../tools/launch.ts';
import { freePort } from '../tools/ports.ts';
import { findStep, root } from '../tools/steps.ts';
import { startFrom } from '../tools/workspace.ts';

const usage = `
Usage: npm run bench:loop               median of 5 checks and 5 restarts
       npm run bench:loop -- --runs 10
Options:
  --runs <n>  how many of each (default 5)
  --json      print JSON`;
const { values } = cli(usage, { runs: { type: 'string' }, json: { type: 'boolean' } }, { max: 0 });
const runs = Number(values.runs ?? 5);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// A folder like workspace/ (git ignores workspace*/): tsx watch skips hidden ones.
const dir = path.join(root, 'workspace-bench-loop');
rmSync(dir, { recursive: true, force: true });
mkdirSync(path.dirname(dir), { recursive: true });
startFrom(findStep(4), dir);

// The check, as a learner types it: through npm, which adds its own start-up.
const npmCli = process.env.npm_execpath;
const check = (through: 'npm' | 'direct') => {
  const started = performance.now();
  const args = ['check', '--', '4', '--dir', dir, '--quiet'];
  const result =
    through === 'npm' && npmCli
      ? spawnSync(process.execPath, [npmCli, 'run', '-s', ...args], { cwd: root })
      : spawnSync(
          process.execPath,
          ['--import', 'tsx', path.join(root, 'tools', 'check.ts'), ...args.slice(2)],
          { cwd: root },
        );
  if (result.status !== 0) throw new Error(`check failed: ${result.stderr}`);
  return performance.now() - started;
};
const checkDirect = Array.from({ length: runs }, () => check('direct'));
const checkNpm = npmCli ? Array.from({ length: runs }, () => check('npm')) : [];

// The restart: tsx watch sees the save, starts the new server, and it answers.
const port = await freePort();
const dev = launchStep(findStep(4), { dir, ports: [port], watch: true, stdio: 'ignore' });
const restarts: number[] = [];
try {
  await dev.ready();
  const file = path.join(dir, 'app.ts');
  const original = readFileSync(file, 'utf8');
  for (let i = 0; i < runs; i++) {
    const message = `Anyone can view this, edit ${i}.`;
    const started = performance.now();
    writeFileSync(file, original.replace('Anyone can view this.', message));
    for (;;) {
      const text = await fetch(`${dev.urls[0]}/unprotected`).then(
        (r) => r.text(),
        () => '',
      );
      if (text.includes(message)) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    restarts.push(performance.now() - started);
  }
} finally {
  await dev.stop();
}

// The replacement: start-from over the workspace that npm run dev runs,
// steps 03 and 04 in turn, to the banner of the step it runs now (it prints
// that once the new server answers).
const replacements: number[] = [];
const devCommand = follow(
  process.execPath,
  ['--import', 'tsx', path.join(root, 'tools', 'dev.ts'), '--dir', dir, '--port', String(port)],
  { cwd: root },
);
try {
  await devCommand.next(/\(step 4, .*\) listening/);
  for (let i = 0; i < runs; i++) {
    const step = i % 2 === 0 ? 3 : 4;
    const started = performance.now();
    startFrom(findStep(step), dir);
    await devCommand.next(new RegExp(`\\(step ${step}, .*\\) listening`));
    replacements.push(performance.now() - started);
  }
} finally {
  devCommand.child.kill('SIGTERM');
  await devCommand.exited;
  rmSync(dir, { recursive: true, force: true });
}

const report = {
  node: process.version,
  runs,
  checkMs: {
    direct: Math.round(median(checkDirect)),
    npm: checkNpm.length ? Math.round(median(checkNpm)) : undefined,
  },
  saveToAnswerMs: Math.round(median(restarts)),
  replacedToAnswerMs: Math.round(median(replacements)),
};
if (values.json) console.log(JSON.stringify(report, null, 2));
else {
  console.log(`Node ${report.node}, medians of ${runs} runs`);
  console.log(
    `npm run check -- 4 --dir <workspace>: ${report.checkMs.npm ?? '-'} ms through npm, ${report.checkMs.direct} ms without npm's own start-up`,
  );
  console.log(`npm run dev, save to new answer:     ${report.saveToAnswerMs} ms`);
  console.log(`npm run dev, start-from to new step: ${report.replacedToAnswerMs} ms`);
}
