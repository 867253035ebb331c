import { execFileSync } from 'node:child_process';

/** What every BENCHMARKS.md table records about the machine it ran on. */
export function machine(): Record<string, string> {
  const sh = (cmd: string): string => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }).trim();
  return {
    nproc: sh('nproc'),
    memory: sh("free -h | awk '/Mem:/ {print $2}'"),
    cpu: sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").trim(),
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** `--name` flags and `--name value` options of a benchmark's argv. */
export function argReader(argv: readonly string[]) {
  return {
    flag: (name: string): boolean => argv.includes(`--${name}`),
    option: (name: string, fallback: string): string => {
      const i = argv.indexOf(`--${name}`);
      return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
    },
  };
}

/** Seeds from a `--seeds` value: "1-3", "101-105", "1,4,7-9". */
export function seedRange(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const [from, to] = part.split('-').map(Number) as [number, number | undefined];
    for (let s = from; s <= (to ?? from); s++) out.push(s);
  }
  return out;
}
