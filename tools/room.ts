// npm run room: the presenter's room. Attendees join it (npm run join) and
// their checks report to it; the presenter's page shows the whole room, live.
// Offline, no account: it listens on every interface of this machine.
import { whenParentGone } from './child.ts';
import { bold, cli, cyan, dim, fail, portArgument, yellow } from './cli.ts';
import { portProblem } from './ports.ts';
import { qrTerminal } from './qr.ts';
import { rel } from './steps.ts';
import { roomFile } from './room/files.ts';
import { lanAddresses } from './room/network.ts';
import { listenRoom, type RunningRoom } from './room/server.ts';
import { Room } from './room/store.ts';

const usage = `
Usage: npm run room                    open the room on port 3100 (or PORT)
       npm run room -- --port 3200     on another port
       npm run room -- --new           a new room: new code, new key, no attendees
Options:
  --port <port>  the port to listen on (default: PORT, else 3100)
  --new          forget the room kept in .room/ and start another`;
const { values } = cli(usage, { port: { type: 'string' }, new: { type: 'boolean' } }, { max: 0 });
// Port 0: any free port, which the join command then shows.
const port =
  (values.port ?? process.env.PORT)?.trim() === '0'
    ? 0
    : (portArgument(values.port) ?? portArgument(process.env.PORT, 'PORT') ?? 3100);

const file = roomFile();
let room: Room;
try {
  room = Room.open(file, { fresh: values.new });
} catch (err) {
  fail(
    `The room kept in ${rel(file)} cannot be read (${(err as Error).message}): npm run room -- --new starts another.`,
  );
}

const [lan, ...others] = lanAddresses();
const address = (host: string, p: number) => `http://${host}:${p}`;
let running: RunningRoom;
try {
  running = await listenRoom({ room, joinUrl: (p) => address(lan ?? 'localhost', p), port });
} catch (err) {
  if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
  let free = port + 1;
  while (free < 65535 && (await portProblem(free))) free++;
  fail(`Port ${port} is in use: npm run room -- --port ${free}`);
}

const joinUrl = address(lan ?? 'localhost', running.port);
const count = room.attendees().length;
console.log(
  `${bold('The room is open')}${count ? dim(` (kept in ${rel(file)}: ${count} attendees already)`) : ''}.`,
);
console.log('\nAttendees join with this, in the workshop folder (add --name "Their Name"):');
console.log(`\n  ${cyan(`npm run join -- ${joinUrl} ${room.code}`)}\n`);
if (!lan) console.log(yellow('  No network found: only this machine can join.'));
if (others.length)
  console.log(
    dim(`  This machine also answers at ${others.map((a) => address(a, running.port)).join(', ')}`),
  );
console.log(
  `Your page (keep its address to yourself): http://localhost:${running.port}/#key=${room.secret}`,
);
// The QR code drawn in block characters, for a terminal on the projector; in a log, only words.
if (process.stdout.isTTY) {
  console.log(dim("It shows the join command and this QR code of the room's address:"));
  console.log(await qrTerminal(joinUrl));
} else console.log(dim("It shows the join command and a QR code of the room's address."));
console.log(
  dim(
    'Attendees cannot reach it? The venue\'s Wi-Fi may keep its clients apart: README, "The room". Ctrl-C stops the room; it remembers everyone.',
  ),
);

// Each join in the terminal too: names as typed, never as terminal codes
// (the room refuses control characters in names).
room.subscribe((change) => {
  if ('attendee' in change && change.attendee.results.length === 0)
    console.log(
      dim(
        `${new Date().toLocaleTimeString()}  joined: ${change.attendee.name} (${room.attendees().length} in the room)`,
      ),
    );
});

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    void running.close().then(() => process.exit(0));
  });
}
// Stopped through npm (an editor's stop button): npm does not pass it on.
whenParentGone(() => process.emit('SIGHUP'));
