/**
 * Agrawal, Imielinski & Swami (1993) "Database mining: a performance perspective": nine
 * attributes of a loan applicant and ten classification functions defining "Group A" (label 1).
 * Written from the paper's definitions (River's 0.23 port differs in a few places, e.g. its
 * function 5 compares salary where the paper compares loan; this follows the paper).
 *
 * Attributes: salary U[20k, 150k]; commission 0 if salary ≥ 75k else U[10k, 75k]; age U{20..80};
 * elevel U{0..4}; car U{1..20}; zipcode U{0..8}; hvalue U[0.5k, 1.5k]·100k with k = 9 − zipcode;
 * hyears U{1..30}; loan U[0, 500k].
 * Concept k (0–9) uses function k + 1. Optional perturbation adds uniform noise of
 * ±perturbation/2 of each numeric attribute's range after the label is computed (as in the paper).
 */
import { Random } from '../detectors/random.ts';
import { conceptAt, isShifted } from './schedule.ts';
import type { ConceptSchedule, ShiftTiming, SyntheticEvent } from './schedule.ts';

export interface AgrawalRecord {
  salary: number;
  commission: number;
  age: number;
  elevel: number;
  car: number;
  zipcode: number;
  hvalue: number;
  hyears: number;
  loan: number;
}

const between = (x: number, low: number, high: number) => low <= x && x <= high;
const disposableBase = (r: AgrawalRecord) => 0.67 * (r.salary + r.commission);

/** The ten published functions; true means Group A. Index 0 is function 1. */
export const AGRAWAL_FUNCTIONS: readonly ((r: AgrawalRecord) => boolean)[] = Object.freeze([
  (r) => r.age < 40 || r.age >= 60,
  (r) =>
    r.age < 40
      ? between(r.salary, 50_000, 100_000)
      : r.age < 60
        ? between(r.salary, 75_000, 125_000)
        : between(r.salary, 25_000, 75_000),
  (r) => (r.age < 40 ? between(r.elevel, 0, 1) : r.age < 60 ? between(r.elevel, 1, 3) : between(r.elevel, 2, 4)),
  (r) => {
    if (r.age < 40)
      return between(r.elevel, 0, 1) ? between(r.salary, 25_000, 75_000) : between(r.salary, 50_000, 100_000);
    if (r.age < 60)
      return between(r.elevel, 1, 3) ? between(r.salary, 50_000, 100_000) : between(r.salary, 75_000, 125_000);
    return between(r.elevel, 2, 4) ? between(r.salary, 50_000, 100_000) : between(r.salary, 25_000, 75_000);
  },
  (r) => {
    if (r.age < 40)
      return between(r.salary, 50_000, 100_000) ? between(r.loan, 100_000, 300_000) : between(r.loan, 200_000, 400_000);
    if (r.age < 60)
      return between(r.salary, 75_000, 125_000) ? between(r.loan, 200_000, 400_000) : between(r.loan, 300_000, 500_000);
    return between(r.salary, 25_000, 75_000) ? between(r.loan, 300_000, 500_000) : between(r.loan, 100_000, 300_000);
  },
  (r) => {
    const total = r.salary + r.commission;
    return r.age < 40
      ? between(total, 50_000, 100_000)
      : r.age < 60
        ? between(total, 75_000, 125_000)
        : between(total, 25_000, 75_000);
  },
  (r) => disposableBase(r) - 0.2 * r.loan - 20_000 > 0,
  (r) => disposableBase(r) - 5000 * r.elevel - 20_000 > 0,
  (r) => disposableBase(r) - 5000 * r.elevel - 0.2 * r.loan - 10_000 > 0,
  (r) => {
    const equity = r.hyears >= 20 ? 0.1 * r.hvalue * (r.hyears - 20) : 0;
    return disposableBase(r) - 5000 * r.elevel + 0.2 * equity - 10_000 > 0;
  },
]);

export interface AgrawalOptions {
  seed: number;
  /** Concept k uses function k + 1. @default { initial: 0 } */
  schedule: ConceptSchedule;
  /** Share of each numeric attribute's range used as uniform noise (0 = none). @default 0 */
  perturbation: number;
  /** Probability of flipping each label. @default 0 */
  noise: number;
  /** After `timing`, salary and/or age are drawn from these ranges (P(y|x) unchanged). @default none */
  covariateShift?: { timing: ShiftTiming; salary?: readonly [number, number]; age?: readonly [number, number] };
}

function drawRecord(
  random: Random,
  salaryRange: readonly [number, number],
  ageRange: readonly [number, number],
): AgrawalRecord {
  const salary = random.uniform(salaryRange[0], salaryRange[1]);
  const commission = salary >= 75_000 ? 0 : random.uniform(10_000, 75_000);
  const age = random.integer(ageRange[0], ageRange[1]);
  const elevel = random.integer(0, 4);
  const car = random.integer(1, 20);
  const zipcode = random.integer(0, 8);
  const k = 9 - zipcode;
  const hvalue = random.uniform(0.5 * k * 100_000, 1.5 * k * 100_000);
  const hyears = random.integer(1, 30);
  const loan = random.uniform(0, 500_000);
  return { salary, commission, age, elevel, car, zipcode, hvalue, hyears, loan };
}

function perturb(random: Random, value: number, low: number, high: number, share: number): number {
  return Math.min(high, Math.max(low, value + (high - low) * share * (random.next() - 0.5)));
}

export function* agrawalStream(
  options: Partial<AgrawalOptions> & { seed: number },
): Generator<SyntheticEvent<AgrawalRecord>> {
  const { seed, schedule = { initial: 0 }, perturbation = 0, noise = 0, covariateShift } = options;
  const random = new Random(seed);
  for (let index = 0; ; index++) {
    const concept = conceptAt(schedule, index, random);
    const classify = AGRAWAL_FUNCTIONS[concept];
    if (!classify) throw new RangeError(`Agrawal concept ${concept} is not one of 0..9`);
    const shifted = isShifted(covariateShift?.timing, index, random);
    const record = drawRecord(
      random,
      shifted && covariateShift?.salary ? covariateShift.salary : [20_000, 150_000],
      shifted && covariateShift?.age ? covariateShift.age : [20, 80],
    );
    let label: 0 | 1 = classify(record) ? 1 : 0;
    if (noise > 0 && random.next() < noise) label = label === 1 ? 0 : 1;
    if (perturbation > 0) {
      record.salary = perturb(random, record.salary, 20_000, 150_000, perturbation);
      if (record.commission > 0) record.commission = perturb(random, record.commission, 10_000, 75_000, perturbation);
      record.age = Math.round(perturb(random, record.age, 20, 80, perturbation));
      record.hvalue = perturb(random, record.hvalue, 0, 1_350_000, perturbation);
      record.hyears = Math.round(perturb(random, record.hyears, 1, 30, perturbation));
      record.loan = perturb(random, record.loan, 0, 500_000, perturbation);
    }
    yield { index, features: record, label, concept, shifted };
  }
}
