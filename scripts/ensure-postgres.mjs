// The integration tests start a real PostgreSQL 15 from the machine's binaries. On a fresh
// Debian machine they come from the postgresql-15 package: install it when it is absent and we
// may (root with apt-get); otherwise say what to do and fail, rather than skip those tests.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const bin = '/usr/lib/postgresql/15/bin/postgres';
if (!existsSync(bin)) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!root || !apt) {
    console.error(`PostgreSQL 15 is needed by the tests (${bin}). Install the Debian package postgresql-15.`);
    process.exit(1);
  }
  console.log('Installing postgresql-15 for the integration tests...');
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', 'postgresql-15'],
  ]) {
    const res = spawnSync('apt-get', args, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (res.status !== 0) process.exit(res.status ?? 1);
  }
}
