/**
 * Copies the dashboard's third-party browser assets from node_modules into
 * dashboards/public/vendor/ (gitignored), so the daemon serves them itself: no CDN, no
 * network at run time. `npm run dashboards:vendor` runs it; the daemon's static route runs it
 * too when the files are missing or stale, so a fresh checkout works after `npm install`.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DASHBOARDS_DIR = path.dirname(fileURLToPath(import.meta.url));
export const VENDOR_DIR = path.join(DASHBOARDS_DIR, 'public', 'vendor');

/** What is copied: package, file inside the package, name under vendor/. */
export const VENDOR_ASSETS = [
  { pkg: 'uplot', file: 'dist/uPlot.esm.js', as: 'uPlot.esm.js' },
  { pkg: 'uplot', file: 'dist/uPlot.min.css', as: 'uPlot.min.css' },
  { pkg: 'uplot', file: 'LICENSE', as: 'uPlot.LICENSE' },
] as const;

/** Copy every asset whose vendored copy is missing or differs; returns the names copied. */
export function vendorAssets(): string[] {
  const require = createRequire(import.meta.url);
  mkdirSync(VENDOR_DIR, { recursive: true });
  const copied: string[] = [];
  for (const asset of VENDOR_ASSETS) {
    const packageDir = path.dirname(require.resolve(`${asset.pkg}/package.json`));
    const from = path.join(packageDir, asset.file);
    const to = path.join(VENDOR_DIR, asset.as);
    if (existsSync(to) && readFileSync(to).equals(readFileSync(from))) continue;
    copyFileSync(from, to);
    copied.push(asset.as);
  }
  return copied;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const copied = vendorAssets();
  process.stderr.write(
    copied.length
      ? `dashboards: vendored ${copied.join(', ')} into ${VENDOR_DIR}\n`
      : 'dashboards: vendor assets up to date\n',
  );
}
