// npm run join -- <URL> <CODE> --name <NAME>: join the presenter's room. From
// then on every npm run check sends its step and counts there (README, "The
// room", says exactly what); npm run leave stops that.
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { cli, dim, fail, green } from './cli.ts';
import { join } from './room/client.ts';

const usage = `
Usage: npm run join -- <URL> <CODE> --name "Your Name"
  URL and CODE are on the presenter's screen (npm run room prints them).
Options:
  --name <name>  how the room shows you (asked for when not given; without a
                 terminal to ask in, your user name)`;
const { values, positionals } = cli(
  usage,
  { name: { type: 'string' } },
  { max: 2, looksLike: (p) => /^https?:/i.test(p) || /^[\w-]{4,}$/.test(p) },
);
const [url, code] = positionals;
if (!url || !code) fail(`Give the room's address and code.${usage}`);

let name = values.name;
if (name === undefined && process.stdin.isTTY) {
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  name = (await prompt.question('Your name, as the room will show it: ')).trim();
  prompt.close();
}
const guessed = !name;
if (!name) {
  try {
    name = userInfo().username;
  } catch {
    name = 'attendee';
  }
}

try {
  const joined = await join(url, code, name);
  console.log(
    `${green('Joined')} the room at ${joined.url} as ${JSON.stringify(joined.name)}. ` +
      `Each npm run check now sends its step, part, counts and failing test names there.`,
  );
  if (guessed) console.log(dim('Another name: the same command with --name "Your Name".'));
  console.log(dim('npm run leave stops that; the README\'s "The room" says exactly what is sent.'));
} catch (err) {
  fail((err as Error).message);
}
