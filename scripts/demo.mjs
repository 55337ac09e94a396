// The main job on the embedded default: `weir init .demo && cd .demo && weir build`,
// then a query over the result. Used by `npm run demo`.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'dist/bin/weir.cjs');
const demo = join(root, '.demo');

function weir(args, cwd) {
  console.log(`$ weir ${args.join(' ')}`);
  const res = spawnSync(process.execPath, [bin, ...args], { cwd, stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
}

rmSync(demo, { recursive: true, force: true });
weir(['init', demo], root);
weir(['build'], demo);
weir(['query', 'select * from marts.customer_revenue_by_month order by 1 limit 5'], demo);
console.log(`\nThe example project is in ${demo}; its data is in ${join(demo, '.weir')}.`);
