import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Python of .halflife/venv-bench (the benchmarks' peers and data preparation), created from setup/requirements-bench.txt when missing. */
export function benchVenvPython(log: (line: string) => void = () => {}): string {
  const venv = path.join(ROOT, '.halflife', 'venv-bench');
  const python = path.join(venv, 'bin', 'python');
  if (!existsSync(python)) {
    log('creating .halflife/venv-bench (python3 -m venv + pip install -r setup/requirements-bench.txt, PyPI only)');
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(python, ['-m', 'pip', 'install', '-q', '-r', path.join(ROOT, 'setup', 'requirements-bench.txt')], {
      stdio: 'inherit',
    });
  }
  return python;
}
