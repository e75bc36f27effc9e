// One training epoch of the NC-controlled MLP (784 → 512 → 512 → 512, ETF projector 512 → 2048 → 512) on MNIST
// digits 0–4, ncod against the same model, loss and optimiser in PyTorch (bench/python/train_torch.py), both timed
// after a warm-up of a few steps and both evaluated on the digits 0–4 of the test split after that epoch.
import { loadMnist, selectClasses, type LabelledImages } from '../../lib/data/index.js';
import { Trainer, type TrainerOptions } from '../../lib/train/trainer.js';
import { runPython, withNpyDir } from '../data.js';
import type { BenchRow } from '../harness.js';

const CLASSES = [0, 1, 2, 3, 4];
const WARMUP_STEPS = 5;
const QUICK_ROWS = 768; // three batches
const QUICK_TEST_ROWS = 500;

function head(data: LabelledImages, rows: number): LabelledImages {
  const n = Math.min(rows, data.rows);
  return { features: data.features.subarray(0, n * data.dim), labels: data.labels.subarray(0, n), rows: n, dim: data.dim };
}

export async function benchTrain(backend: 'cpu' | 'cuda', quick: boolean): Promise<BenchRow[]> {
  let train = selectClasses(await loadMnist('train'), CLASSES);
  let test = selectClasses(await loadMnist('test'), CLASSES);
  if (quick) [train, test] = [head(train, QUICK_ROWS), head(test, QUICK_TEST_ROWS)];

  // One epoch at the full learning rate: no warm-up epochs, and with epochs = 1 the cosine starts at lr.
  const options: TrainerOptions = {
    layers: [train.dim, 512, 512, 512],
    classes: CLASSES.length,
    projector: 'etf',
    projectorHidden: 2048,
    alpha: 0.05,
    labelSmoothing: 0.1,
    lr: 1e-3,
    weightDecay: 0.05,
    batch: 256,
    epochs: 1,
    warmupEpochs: 0,
    seed: 0,
    backend,
  };
  const batch = options.batch!;
  const warm = head(train, WARMUP_STEPS * batch);
  await new Trainer(options).trainEpoch(warm.features, warm.labels);
  const trainer = new Trainer(options);
  const stats = await trainer.trainEpoch(train.features, train.labels);
  const steps = trainer.state().step;
  const ours = (await trainer.evaluate(test.features, test.labels)).accuracy!;

  const torch = await withNpyDir(
    {
      x_train: { dtype: 'float32', shape: [train.rows, train.dim], data: train.features },
      y_train: { dtype: 'int32', shape: [train.rows], data: train.labels },
      x_test: { dtype: 'float32', shape: [test.rows, test.dim], data: test.features },
      y_test: { dtype: 'int32', shape: [test.rows], data: test.labels },
    },
    (dir) =>
      runPython(
        'train_torch.py',
        [
          dir,
          JSON.stringify({
            widths: options.layers,
            classes: options.classes,
            hidden: options.projectorHidden,
            batch,
            alpha: options.alpha,
            label_smoothing: options.labelSmoothing,
            lr: options.lr,
            weight_decay: options.weightDecay,
            seed: options.seed,
            warmup_steps: WARMUP_STEPS,
          }),
        ],
        ['torch', 'numpy'],
      ),
  );

  // Different step counts would make the times incomparable; after a full epoch both models should be about
  // equally good (different initial draws and batch orders, so not equal).
  const problems: string[] = [];
  if (torch.steps !== steps) problems.push(`STEPS DIFFER: ncod ${steps}, PyTorch ${torch.steps}`);
  if (!quick && Math.abs(ours - torch.test_acc) > 0.02) problems.push('TEST ACCURACIES DIFFER by more than 2 points');
  const ratio = torch.seconds / stats.seconds;
  console.error(
    `train: ${train.rows} rows, ${steps} steps: ncod ${stats.seconds.toFixed(2)} s (test acc ${ours.toFixed(4)}), ` +
      `PyTorch ${torch.seconds.toFixed(2)} s (test acc ${torch.test_acc.toFixed(4)}), ratio ${ratio.toFixed(2)}`,
  );
  return [
    {
      suite: 'train',
      case:
        `${backend}, MNIST 0–4 train (${train.rows} rows, ${steps} steps of ${batch}), MLP 784→512→512→512 + ETF ` +
        `projector 512→2048→512, α=0.05, ls 0.1, AdamW; one epoch after ${WARMUP_STEPS} warm-up steps; ` +
        `test acc after it (${test.rows} rows): ncod ${ours.toFixed(4)}, PyTorch ${torch.test_acc.toFixed(4)}` +
        (problems.length ? ` [${problems.join('; ')}]` : ''),
      value: stats.seconds,
      unit: 's',
      reference: torch.seconds,
      referenceName: `PyTorch ${torch.torch} CPU, ${torch.threads} threads, dense ETF matrices (the reference code's way)`,
      ratio,
      goal: '≥ 1.43 (ncod ≤ 0.7× PyTorch)',
      met: problems.length === 0 && ratio >= 1 / 0.7,
    },
  ];
}
