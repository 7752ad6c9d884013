// Starts `sportello serve --demo` for the browser tests: a fresh SQLite database, mails and
// working directory in `tmp`, on a free port (parsed from the server's first line).

import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Resolves with `{ proc, port }` once the server listens. Its output accumulates in `out.log`
 * (for error messages).
 */
export function startServer(bin, { tmp, tenantsDir, env = {} }, out) {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, ['serve', '--demo', '--bind', '127.0.0.1:0'], {
      env: {
        ...process.env,
        SPORTELLO_DATABASE_URL: `sqlite://${path.join(tmp, 'db.sqlite')}?mode=rwc`,
        SPORTELLO_TENANTS_DIR: tenantsDir,
        SPORTELLO_MAIL_OUTBOX: path.join(tmp, 'mail-outbox'),
        ...env,
      },
      cwd: tmp,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(
      () => reject(new Error(`server did not start within 30 s:\n${out.log}`)),
      30_000,
    );
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${bin}: ${e.message}`));
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (${code ?? signal}):\n${out.log}`));
    });
    proc.stderr.on('data', (d) => {
      out.log += d;
    });
    createInterface({ input: proc.stdout }).on('line', (line) => {
      out.log += `${line}\n`;
      const m = /^sportello listening on http:\/\/127\.0\.0\.1:(\d+)\s*$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]) });
      }
    });
  });
}
