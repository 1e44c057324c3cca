import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { launchStep, freePort } from './launch.ts';
import { findStep } from './steps.ts';
import { validToken } from './attack/lab.ts';
const port = await freePort();
const l = launchStep(findStep(6), { dir: process.argv[2], ports: [port], stdio: 'ignore', prefix: ['taskset', '-c', '0'], env: { JWT_SECRET: 'x'.repeat(40), TOKEN_TTL_SECONDS: '3600' } });
await l.ready();
const pid = l.children[0]!.pid!;
const cpu = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
const token = await validToken({ apiUrl: l.urls[0]! });
const run = (path: string, headers: string[]) => new Promise<[number, number]>((r) => { const c0 = cpu(); let out = ''; const c = spawn('taskset', ['-c', '1', process.execPath, 'node_modules/autocannon/autocannon.js', '-j', '-c', '10', '-d', '3', ...headers, l.urls[0] + path]); c.stdout.on('data', (d) => out += d); c.on('close', () => r([JSON.parse(out).requests.average, (cpu() - c0) / 3])); });
await run('/unprotected', []);
const q = process.argv[3] === 'query';
for (let i = 0; i < 2; i++) {
  const [u, cu] = await run('/unprotected', []);
  const [p, cp] = await run(q ? `/protected?token=${token}` : '/protected', q ? [] : ['-H', `Authorization=Bearer ${token}`]);
  console.log(`unprotected ${Math.round(u)} rps server cpu ${cu.toFixed(2)}; protected ${Math.round(p)} rps cpu ${cp.toFixed(2)}; us/req ${(cu / u * 1e6).toFixed(0)} vs ${(cp / p * 1e6).toFixed(0)}`);
}
l.stop();
