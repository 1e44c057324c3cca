// npm run leave: forget the room this copy of the workshop joined; checks
// report to no one from then on.
import { cli } from './cli.ts';
import { leave } from './room/client.ts';

cli('\nUsage: npm run leave   forget the room (checks send nothing from then on)', {}, { max: 0 });
const left = await leave();
console.log(
  left
    ? `Left the room at ${left.url}: checks send nothing now.`
    : 'This copy is in no room: checks send nothing.',
);
