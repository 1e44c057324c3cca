// npm run hint <n>: the next hint for step n's exercise, one at a time, each
// a nudge before the answer. It remembers how far you got; --all shows them all.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bold, cli, dim, fail, partArgument, stepArgument, yellow } from './cli.ts';
import { loadExercise, type Hint } from './exercise.ts';
import { rel, root } from './steps.ts';
import { defaultWorkspace, exerciseIn } from './workspace.ts';

const usage = `
Usage: npm run hint              the next hint for the exercise in workspace/
       npm run hint <n>          the next hint for step n (it remembers which you have seen)
       npm run hint <n> <k>      hint k of step n
       npm run hint -- <n> --all every hint of step n
Options:
  --all          every hint at once
  --part <name>  only the hints of one part (step 6)
  --reset        start again from the first hint`;
const { values, positionals } = cli(
  usage,
  { all: { type: 'boolean' }, part: { type: 'string' }, reset: { type: 'boolean' } },
  { max: 2, looksLike: (p) => /^\d+$/.test(p) },
);
// Without a step: the exercise in the folder this was typed in, else in workspace/.
const folder =
  positionals.length > 0
    ? undefined
    : [process.env.INIT_CWD, defaultWorkspace].find((dir) => dir && exerciseIn(dir));
const step = folder ? exerciseIn(folder)! : stepArgument(positionals, usage);
if (folder) console.log(dim(`(step ${step.number}: the exercise in ${rel(folder) || '.'}/)`));
const exercise = loadExercise(step);
if (!exercise || exercise.hints.length === 0)
  fail(`Step ${step.number} has no hints: npm run diff ${step.number} shows what it adds.`);
const part = partArgument(step, values.part);
const hints = exercise.hints.filter((h) => part === undefined || h.part === part);
if (hints.length === 0) fail(`Step ${step.number} has no hints for part "${part}" yet.`);

// How many hints of each step (and part) the learner has seen: in .scratch/, which git ignores.
const memory = path.join(root, '.scratch', 'hints.json');
const key = `${step.number}${values.part ? `:${values.part}` : ''}`;
let seen: Record<string, number> = {};
try {
  seen = JSON.parse(readFileSync(memory, 'utf8')) as Record<string, number>;
} catch {
  // none seen yet
}
if (values.reset) seen[key] = 0;

const print = (hint: Hint) =>
  console.log(
    `${bold(`Hint ${hint.number} of ${exercise.hints.length}${hint.part ? ` (part ${hint.part})` : ''}: ${hint.title}`)}\n${hint.text}\n`,
  );

if (values.all) {
  hints.forEach(print);
} else if (positionals[1] !== undefined) {
  const hint = exercise.hints.find((h) => h.number === Number(positionals[1]));
  if (!hint) fail(`Step ${step.number} has hints 1 to ${exercise.hints.length}.`);
  print(hint);
} else {
  const index = Math.min(seen[key] ?? 0, hints.length - 1);
  print(hints[index]!);
  seen[key] = index + 1;
  const again = values.part
    ? `npm run hint -- ${step.number} --part ${values.part}`
    : `npm run hint ${step.number}`;
  const after = values.part
    ? `npm run check -- ${step.number} --dir workspace --part ${values.part} says what is still wrong.`
    : `npm run diff -- ${step.number} --dir workspace shows how your code differs from the step.`;
  console.log(
    dim(
      index + 1 < hints.length
        ? `Still stuck? ${again} gives the next one (${hints.length - index - 1} more).`
        : `That was the last hint. ${after}`,
    ),
  );
}
if (values.reset && !values.all) console.log(yellow('(starting again from the first hint)'));
mkdirSync(path.dirname(memory), { recursive: true });
writeFileSync(memory, `${JSON.stringify(seen, null, 2)}\n`);
