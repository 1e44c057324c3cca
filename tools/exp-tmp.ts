import { spawn } from 'node:child_process';
import { launchStep, freePort } from './launch.ts';
import { findStep } from './steps.ts';
import { validToken } from './attack/lab.ts';
const dir = process.argv[2];
const port = await freePort();
const l = launchStep(findStep(6), { dir, ports: [port], stdio: 'ignore', prefix: ['taskset', '-c', '0'], env: { JWT_SECRET: 'x'.repeat(40), TOKEN_TTL_SECONDS: '3600' } });
await l.ready();
const token = await validToken({ apiUrl: l.urls[0]! });
const run = (path: string, headers: string[]) => new Promise<number>((r) => { let out = ''; const c = spawn('taskset', ['-c', '1', process.execPath, 'node_modules/autocannon/autocannon.js', '-j', '-c', '10', '-d', '2', ...headers, l.urls[0] + path]); c.stdout.on('data', (d) => out += d); c.on('close', () => r(JSON.parse(out).requests.average)); });
const ratios: number[] = [];
await run('/unprotected', []);
for (let i = 0; i < 4; i++) { const u = await run('/unprotected', []); const p = await run('/protected', ['-H', `Authorization=Bearer ${token}`]); ratios.push(p / u); console.log(Math.round(u), Math.round(p), (p / u).toFixed(2)); }
console.log('median-ish', ratios.sort()[2]!.toFixed(2));
l.stop();
