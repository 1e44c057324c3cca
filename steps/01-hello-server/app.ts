// Step 01: hello world with Koa and @koa/router.
// Run it: npx tsx steps/01-hello-server/app.ts
import { realpathSync } from 'node:fs';
import Koa from 'koa';
import Router from '@koa/router';

// #region app
export const app = new Koa();
const router = new Router();

router.get('/', (ctx) => {
  ctx.body = 'Hello, World!';
});

app.use(router.routes());
app.use(router.allowedMethods());
// #endregion

// #region listen
// Listen only when run directly, so tests can import the app and pick a port.
function isMain(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(import.meta.filename);
  } catch {
    return false;
  }
}

if (isMain()) {
  const port = Number(process.env.PORT || 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT must be a number from 0 to 65535, not ${JSON.stringify(process.env.PORT)}.`);
    process.exit(1);
  }
  const server = app.listen(port, () => {
    const url = `http://localhost:${port}`;
    console.log(`Step 01 listening on ${url}\nTry:\n  curl ${url}/`);
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE' && err.code !== 'EACCES') throw err;
    console.error(`Port ${port} is ${err.code === 'EACCES' ? 'not allowed' : 'in use'}: pick another with PORT, e.g. npm run step -- 1 --port ${port + 1}`);
    process.exit(1);
  });
}
// #endregion
