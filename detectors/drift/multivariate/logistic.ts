/**
 * L2-regularised logistic regression, the same objective as scikit-learn's
 * `LogisticRegression(C)`: Σ log-loss + ‖w‖² / (2C), intercept unpenalised. The objective is
 * strictly convex, so any solver that converges finds scikit-learn's coefficients; this one is
 * L-BFGS (memory 10) with a backtracking Armijo line search, because a gradient costs one pass
 * over the rows (n × p) while a Newton step would cost n × p² — hundreds of quadratic terms make
 * that the difference between milliseconds and seconds per tick.
 */
import type { Matrix } from './sample.ts';

export interface LogisticOptions {
  /** Inverse regularisation strength, as scikit-learn's `C`. @default 1 */
  C?: number;
  /** Stop when every gradient component of the mean loss is below this. @default 1e-8 */
  tolerance?: number;
  /** @default 1000 */
  maxIterations?: number;
}

export interface LogisticModel {
  coefficients: Float64Array;
  intercept: number;
  iterations: number;
  converged: boolean;
}

const HISTORY = 10;

/** log(1 + e^s) without overflow. */
function softplus(s: number): number {
  return s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s));
}

function sigmoid(s: number): number {
  return s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
}

/** Objective and gradient at `theta` (coefficients then intercept) over the chosen rows. */
function evaluate(
  x: Matrix,
  y: Uint8Array,
  rows: readonly number[],
  theta: Float64Array,
  inverseC: number,
  gradient: Float64Array,
): number {
  const p = x.cols;
  gradient.fill(0);
  let loss = 0;
  const intercept = theta[p] as number;
  for (const i of rows) {
    const base = i * p;
    let s = intercept;
    for (let j = 0; j < p; j++) s += (x.data[base + j] as number) * (theta[j] as number);
    const label = y[i] as number;
    loss += softplus(s) - label * s;
    const residual = sigmoid(s) - label;
    for (let j = 0; j < p; j++) gradient[j] = (gradient[j] as number) + residual * (x.data[base + j] as number);
    gradient[p] = (gradient[p] as number) + residual;
  }
  let penalty = 0;
  for (let j = 0; j < p; j++) {
    penalty += (theta[j] as number) * (theta[j] as number);
    gradient[j] = (gradient[j] as number) + inverseC * (theta[j] as number);
  }
  return loss + 0.5 * inverseC * penalty;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/** Fit on the rows `rows` of `x` (all rows by default) with labels `y` (0 or 1). */
export function fitLogistic(
  x: Matrix,
  y: Uint8Array,
  options: LogisticOptions = {},
  rows?: readonly number[],
): LogisticModel {
  const chosen = rows ?? Array.from({ length: x.rows }, (_, i) => i);
  const n = Math.max(1, chosen.length);
  const inverseC = 1 / (options.C ?? 1);
  const tolerance = options.tolerance ?? 1e-8;
  const maxIterations = options.maxIterations ?? 1000;
  const size = x.cols + 1;
  let theta = new Float64Array(size);
  let gradient = new Float64Array(size);
  let value = evaluate(x, y, chosen, theta, inverseC, gradient);
  const steps: Float64Array[] = [];
  const changes: Float64Array[] = [];
  const rhos: number[] = [];
  const direction = new Float64Array(size);
  const alphas = new Float64Array(HISTORY);
  let iterations = 0;
  let converged = maxAbs(gradient) / n <= tolerance;
  while (!converged && iterations < maxIterations) {
    iterations += 1;
    // Two-loop recursion: direction = −H·g.
    direction.set(gradient);
    for (let k = steps.length - 1; k >= 0; k--) {
      const a = (rhos[k] as number) * dot(steps[k] as Float64Array, direction);
      alphas[k] = a;
      const change = changes[k] as Float64Array;
      for (let j = 0; j < size; j++) direction[j] = (direction[j] as number) - a * (change[j] as number);
    }
    if (steps.length > 0) {
      const last = steps.length - 1;
      const change = changes[last] as Float64Array;
      const gamma = dot(steps[last] as Float64Array, change) / dot(change, change);
      for (let j = 0; j < size; j++) direction[j] = (direction[j] as number) * gamma;
    } else {
      // First step: a gradient step scaled to a unit move.
      const norm = Math.sqrt(dot(direction, direction));
      for (let j = 0; j < size; j++) direction[j] = (direction[j] as number) / Math.max(norm, 1e-300);
    }
    for (let k = 0; k < steps.length; k++) {
      const b = (rhos[k] as number) * dot(changes[k] as Float64Array, direction);
      const step = steps[k] as Float64Array;
      for (let j = 0; j < size; j++)
        direction[j] = (direction[j] as number) + ((alphas[k] as number) - b) * (step[j] as number);
    }
    for (let j = 0; j < size; j++) direction[j] = -(direction[j] as number);
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // Not a descent direction (lost curvature): restart from steepest descent.
      steps.length = 0;
      changes.length = 0;
      rhos.length = 0;
      for (let j = 0; j < size; j++) direction[j] = -(gradient[j] as number);
      slope = dot(gradient, direction);
    }
    let t = 1;
    const next = new Float64Array(size);
    const nextGradient = new Float64Array(size);
    let nextValue = Number.POSITIVE_INFINITY;
    for (let tries = 0; tries < 60; tries++) {
      for (let j = 0; j < size; j++) next[j] = (theta[j] as number) + t * (direction[j] as number);
      nextValue = evaluate(x, y, chosen, next, inverseC, nextGradient);
      if (nextValue <= value + 1e-4 * t * slope) break;
      t *= 0.5;
    }
    if (!(nextValue <= value)) break;
    const step = new Float64Array(size);
    const change = new Float64Array(size);
    for (let j = 0; j < size; j++) {
      step[j] = (next[j] as number) - (theta[j] as number);
      change[j] = (nextGradient[j] as number) - (gradient[j] as number);
    }
    const curvature = dot(step, change);
    if (curvature > 1e-12) {
      steps.push(step);
      changes.push(change);
      rhos.push(1 / curvature);
      if (steps.length > HISTORY) {
        steps.shift();
        changes.shift();
        rhos.shift();
      }
    }
    const improvement = value - nextValue;
    theta = next;
    gradient = nextGradient;
    value = nextValue;
    converged = maxAbs(gradient) / n <= tolerance;
    // Flat to machine precision: nothing left to gain.
    if (!converged && improvement <= 1e-15 * Math.max(1, Math.abs(value))) break;
  }
  return { coefficients: theta.slice(0, x.cols), intercept: theta[x.cols] as number, iterations, converged };
}

/** P(y = 1) of row `i` of `x`. */
export function predictRow(model: LogisticModel, x: Matrix, i: number): number {
  let s = model.intercept;
  const base = i * x.cols;
  for (let j = 0; j < x.cols; j++) s += (x.data[base + j] as number) * (model.coefficients[j] as number);
  return sigmoid(s);
}
