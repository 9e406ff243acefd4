/**
 * The Dockerfile, checked without a Docker engine: its stages and instructions, that what it
 * copies exists and is not excluded by .dockerignore, and that its HEALTHCHECK command really
 * tells a healthy klaxon from an unhealthy or absent one (run with this machine's node).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from './tools.js';

interface Instruction {
  op: string;
  args: string;
  stage: string;
}

/** Instructions with continuation lines joined and comments dropped, each tagged with its stage. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const out: Instruction[] = [];
  let stage = '';
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*\S)\s*$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const op = m[1].toUpperCase();
    if (op === 'FROM') stage = /\bAS\s+(\S+)/i.exec(m[2])?.[1] ?? '';
    out.push({ op, args: m[2], stage });
  }
  return out;
}

const dockerfile = readFileSync(repoPath('Dockerfile'), 'utf8');
const all = instructions(dockerfile);
const inStage = (stage: string, op: string) => all.filter((i) => i.stage === stage && i.op === op);
const last = (op: string) => all.filter((i) => i.op === op).at(-1)?.args;

describe('Dockerfile', () => {
  it('builds in a node:22 stage and runs in a separate one', () => {
    const froms = all.filter((i) => i.op === 'FROM');
    expect(froms.map((f) => f.stage)).toEqual(['build', 'runtime']);
    const baseArg = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    expect(baseArg).toMatch(/^node:22-(bookworm-slim|alpine)$/);
    for (const f of froms) expect(f.args).toMatch(/^\$\{NODE_IMAGE\}\s+AS\s+\w+$/);
  });

  it('compiles with npm ci and npm run build in the build stage', () => {
    const runs = inStage('build', 'RUN').map((r) => r.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
  });

  it('installs only production dependencies, without install scripts, in the runtime stage', () => {
    const runs = inStage('runtime', 'RUN').map((r) => r.args);
    expect(runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r) && /--ignore-scripts/.test(r))).toBe(true);
    const copies = inStage('runtime', 'COPY').map((c) => c.args);
    expect(copies).toContain('--from=build /app/dist ./dist');
    expect(copies.some((c) => /^config\s/.test(c))).toBe(true);
    expect(copies.some((c) => /\bsrc\b|node_modules/.test(c)), 'no sources or dev modules in the runtime image').toBe(false);
  });

  it('runs as a numeric non-root user, exposes 9464, and starts the CLI', () => {
    const user = last('USER') ?? '';
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    expect(last('EXPOSE')).toBe('9464');
    expect(JSON.parse(last('ENTRYPOINT') ?? 'null')).toEqual(['node', 'dist/src/cli.js']);
    expect(JSON.parse(last('CMD') ?? 'null')).toEqual(['run', '--config', '/etc/klaxon/klaxon.yaml']);
    expect(existsSync(repoPath('src/cli.ts')), 'dist/src/cli.js is compiled from src/cli.ts').toBe(true);
    const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin.klaxon).toBe('dist/src/cli.js');
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignore = readFileSync(repoPath('.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignore[0], '.dockerignore starts from "exclude everything"').toBe('*');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const sources = all
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(existsSync(repoPath(src)), `${src} exists`).toBe(true);
      expect(allowed, `${src} is in the build context`).toContain(src.replace(/\/$/, ''));
    }
    // and the build's inputs are all there: tsconfig.build.json's include list
    const build = JSON.parse(readFileSync(repoPath('tsconfig.build.json'), 'utf8')) as { include: string[] };
    for (const dir of build.include) expect(sources).toContain(dir);
  });

  it('copies the config that the CLI falls back to', () => {
    expect(existsSync(repoPath('config/klaxon.yaml'))).toBe(true);
    expect(dockerfile).toMatch(/cp config\/klaxon\.yaml \/etc\/klaxon\/klaxon\.yaml/);
  });
});

describe('the HEALTHCHECK command', () => {
  const healthcheck = /^HEALTHCHECK\b.*?\bCMD\s+(\[.*\])\s*$/m.exec(all.map((i) => `${i.op} ${i.args}`).join('\n'))?.[1];
  const argv = JSON.parse(healthcheck ?? '[]') as string[];
  let server: Server;
  let port = 0;
  let status = 200;
  let hang = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (hang) return; // never answers
      res.writeHead(req.url === '/healthz' ? status : 404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  /** Runs the command as Docker would, pointed at the test server instead of :9464. */
  function probe(targetPort: number): Promise<number | null> {
    const [cmd, ...args] = argv.map((a) => a.replace('127.0.0.1:9464', `127.0.0.1:${targetPort}`));
    expect(cmd).toBe('node');
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code));
    });
  }

  it('uses node against http://127.0.0.1:9464/healthz, never curl or wget', () => {
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).toContain('http://127.0.0.1:9464/healthz');
    expect(argv.join(' ')).not.toMatch(/curl|wget/);
  });

  it('exits 0 when /healthz answers 200', async () => {
    status = 200;
    expect(await probe(port)).toBe(0);
  });

  it('exits 1 when /healthz answers 503', async () => {
    status = 503;
    expect(await probe(port)).toBe(1);
  });

  it('exits 1 when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const unused = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await probe(unused)).toBe(1);
  });

  it('exits 1 by itself when the server never answers', async () => {
    hang = true;
    try {
      expect(await probe(port)).toBe(1);
    } finally {
      hang = false;
    }
  }, 15_000);
});
