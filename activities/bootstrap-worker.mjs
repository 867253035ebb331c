// A helper thread of activities/bootstrap-threads.ts: claims bootstrap replicates from a shared
// counter and writes their means into shared memory. Replicate r is the mean of n draws from
// mulberry32 started r·n draws after the seed — detectors/random.ts `Random.afterDraws` and
// `resampledMean`, repeated here because a worker runs plain JavaScript (test/unit/bootstrap-
// threads.test.ts holds the two equal, value for value).
import { workerData } from 'node:worker_threads';

const { differences, results, control, done, seed, replicates } = workerData;
const values = new Float64Array(differences);
const means = new Float64Array(results);
const counters = new Int32Array(control);
const finished = new Int32Array(done);
const n = values.length;
const scale = n / 4294967296;

function mean(replicate) {
  let state = ((seed >>> 0) + (Math.imul((replicate * n) % 4294967296, 0x6d2b79f5) >>> 0)) | 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    sum += values[(((t ^ (t >>> 14)) >>> 0) * scale) | 0];
  }
  return sum / n;
}

for (;;) {
  const r = Atomics.add(counters, 0, 1);
  if (r >= replicates) break;
  means[r] = mean(r);
  Atomics.store(finished, r, 1);
  Atomics.add(counters, 1, 1);
  Atomics.notify(counters, 1);
}
