// Starts a real `paivystys serve --demo` on a free port for one test file, reads the demo
// accounts it prints, and stops it afterwards.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = process.env.PAIVYSTYS_BIN;

export async function startServer() {
  if (!BIN) throw new Error('PAIVYSTYS_BIN must name the paivystys binary');
  const dir = mkdtempSync(join(tmpdir(), 'paivystys-e2e-'));
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' };
  env.PAIVYSTYS_DATABASE_URL = process.env.PAIVYSTYS_E2E_DATABASE_URL ?? `sqlite://${join(dir, 'e2e.db')}`;
  env.PAIVYSTYS_SHELTER_DATABASE_URL = `sqlite://${join(dir, 'shelter.db')}`;
  // Every test's chat client comes from 127.0.0.1: one source, so lift its opening limit.
  env.PAIVYSTYS_CHAT__OPENS_PER_HOUR_PER_SOURCE = env.PAIVYSTYS_CHAT__OPENS_PER_HOUR_PER_SOURCE ?? '1000';
  // Likewise for the report forms and their add-information attempts.
  env.PAIVYSTYS_REPORTS__PER_HOUR_PER_SOURCE = env.PAIVYSTYS_REPORTS__PER_HOUR_PER_SOURCE ?? '1000';
  env.PAIVYSTYS_REPORTS__ADDITIONS_PER_HOUR_PER_SOURCE = env.PAIVYSTYS_REPORTS__ADDITIONS_PER_HOUR_PER_SOURCE ?? '1000';
  // The phone system's webhook: a secret the telephony tests sign with, extension 201 at the
  // demo on-call worker's desk, and the child welfare line's number.
  env.PAIVYSTYS_TELEPHONY_SECRET = env.PAIVYSTYS_TELEPHONY_SECRET ?? 'e2e-telephony-secret-0123456789abcdef';
  env.PAIVYSTYS_TELEPHONY__EXTENSIONS__201 = env.PAIVYSTYS_TELEPHONY__EXTENSIONS__201 ?? 'paivystaja';
  env.PAIVYSTYS_TELEPHONY__LINES__0800100200 = env.PAIVYSTYS_TELEPHONY__LINES__0800100200 ?? 'child_welfare';
  const child = spawn(BIN, ['serve', '--demo', '--bind', '127.0.0.1:0'], { cwd: dir, env });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const accounts = {};
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${stderr}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`server exited (${code}):\n${out}\n${stderr}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      for (const line of out.split('\n')) {
        const account = line.match(/^\s+(oncall|supervisor|team|shelter|admin)\s+(\S+)\s+(\S+)\s*$/);
        if (account) accounts[account[1]] = { username: account[2], password: account[3] };
        const listening = line.match(/listening on (http:\/\/\S+)/);
        if (listening) {
          clearTimeout(timer);
          resolve(listening[1]);
        }
      }
    });
  });
  return {
    base,
    accounts,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', resolve)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
