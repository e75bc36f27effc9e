// evaluateOOD (every metric, no bootstrap) against scikit-learn computing the same metrics in the same run
// (bench/python/eval_sklearn.py).
import { evaluateOOD, type OODMetrics } from '../../lib/ood/evaluate.js';
import { logLoad, normalScores, runPython, withNpyDir } from '../data.js';
import { timeIt, type BenchRow } from '../harness.js';

export async function benchEval(_backend: 'cpu' | 'cuda', quick: boolean): Promise<BenchRow[]> {
  const n = quick ? 100_000 : 5_000_000;
  const idScores = normalScores(n, 31, 1);
  const oodScores = normalScores(n, 32, 0);

  logLoad('eval: start');
  const seconds = await timeIt(() => evaluateOOD(idScores, oodScores), 3);
  const ours = evaluateOOD(idScores, oodScores);
  const sklearn = await withNpyDir(
    {
      id: { dtype: 'float64', shape: [n], data: idScores },
      ood: { dtype: 'float64', shape: [n], data: oodScores },
    },
    (dir) => runPython('eval_sklearn.py', [dir, quick ? '3' : '1'], ['sklearn', 'numpy']),
  );

  logLoad('eval: end');

  // Same answers or the timing means nothing.
  const differences = Object.entries(sklearn.metrics as Record<string, number>)
    .map(([key, value]) => ({ key, diff: Math.abs(ours[key as keyof OODMetrics] - value) }))
    .filter(({ diff }) => !(diff <= 1e-9));
  console.error(`eval: n=${n}+${n}: ncod ${JSON.stringify(metricsOf(ours))}\neval: sklearn ${JSON.stringify(sklearn.metrics)}`);
  if (differences.length) {
    console.error(`\n!!! eval: evaluateOOD DISAGREES with scikit-learn: ${JSON.stringify(differences)} !!!\n`);
  }
  const ratio = sklearn.seconds / seconds;
  return [
    {
      suite: 'eval',
      case:
        `${n} ID + ${n} OOD float64 scores, all 8 metrics` +
        (differences.length ? ` [DISAGREES with sklearn: ${differences.map((d) => d.key).join(', ')}]` : ''),
      value: seconds,
      unit: 's',
      reference: sklearn.seconds,
      referenceName: 'scikit-learn, same metrics',
      ratio,
      goal: '≥ 10×',
      met: differences.length === 0 && ratio >= 10,
    },
  ];
}

function metricsOf(report: OODMetrics): OODMetrics {
  const { auroc, fpr95, fpr95_ood_positive, aupr_in, aupr_out, ap_in, ap_out, detection_error } = report;
  return { auroc, fpr95, fpr95_ood_positive, aupr_in, aupr_out, ap_in, ap_out, detection_error };
}
