// The paper's learning-rate schedule, stepped per epoch: linear warm-up from 1 % of the rate, then cosine to 0.

export function learningRate(epoch: number, epochs: number, baseRate: number, warmupEpochs: number): number {
  const warmup = Math.min(warmupEpochs, Math.max(0, epochs - 1));
  if (epoch < warmup) return baseRate * (0.01 + (0.99 * epoch) / warmup);
  const span = Math.max(1, epochs - warmup);
  return 0.5 * baseRate * (1 + Math.cos((Math.PI * (epoch - warmup)) / span));
}
