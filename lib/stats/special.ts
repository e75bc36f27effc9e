// The special functions the rank tests need: the regularised upper incomplete gamma Q(a, x), from which the χ²
// and normal tail probabilities follow. Series for x < a + 1, Lentz's continued fraction beyond (Numerical
// Recipes §6.2); both converge to ~1e-15 relative, far below what a p-value is read to.

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: ~1e-15 relative). */
export function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x); // reflection
  const z = x - 1;
  let sum = c[0];
  for (let i = 1; i < 9; i++) sum += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Q(a, x) = Γ(a, x)/Γ(a), for a > 0, x ≥ 0. */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return NaN;
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  const prefix = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-17; n++) sum += term *= x / (a + n);
    return Math.max(0, 1 - sum * prefix);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return prefix * h;
}

/** P(χ²_k ≥ x). */
export function chiSquareSurvival(x: number, dof: number): number {
  return gammaQ(dof / 2, Math.max(0, x) / 2);
}

/** P(|Z| ≥ |z|) for a standard normal Z: erfc(|z|/√2) = Q(½, z²/2). */
export function normalTwoSided(z: number): number {
  return gammaQ(0.5, (z * z) / 2);
}
