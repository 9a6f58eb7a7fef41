// bench/store/run.sh helper: creates N shoppers through the front door (one
// POST /ShoppingCart/AddToCart/1 each, so each has a session and a cart) and
// writes their Cookie headers as a Lua table for mix.lua.
//   node bench/store/prepare.mjs URL USERS OUT.lua
import { writeFileSync } from 'node:fs';

const [url, users, out] = process.argv.slice(2);
const cookies = [];
for (let i = 0; i < Number(users); i++) {
  const res = await fetch(`${url}/ShoppingCart/AddToCart/1`, { method: 'POST', redirect: 'manual' });
  if (res.status !== 303) throw new Error(`AddToCart -> ${res.status}`);
  const jar = res.headers.getSetCookie().map((c) => c.split(';')[0].trim());
  if (!jar.some((c) => c.startsWith('TetherSession='))) throw new Error('no session cookie');
  cookies.push(jar.join('; '));
}
writeFileSync(out, `cookies = {\n${cookies.map((c) => `  "${c}",`).join('\n')}\n}\n`);
