// Means and sample standard deviations over seeds, layers and OOD sets: one definition for `bench paper`'s
// result, its terminal table and its report.

export const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** The mean of a record's values (e.g. a metric over OOD sets). */
export const meanOf = (values: Record<string, number>): number => mean(Object.values(values));

/** Mean and sample std (n − 1); std 0 for one value. */
export function meanStd(values: number[]): { mean: number; std: number } {
  const m = mean(values);
  return { mean: m, std: values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1)) : 0 };
}
