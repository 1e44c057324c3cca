// Step 01: hello world with Koa and @koa/router.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
// Listen when run directly (npx tsx), not when a test imports the app.
if (realpathSync(process.argv[1] ?? '.') === fileURLToPath(import.meta.url)) {
  app.listen(Number(process.env.PORT) || 3000);
}
// #endregion
