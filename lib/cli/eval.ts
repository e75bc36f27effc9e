// `ncod eval`: OOD detection metrics from a detector's scores on ID and OOD data (options: commands/eval.ts).
import { fail } from '../errors.js';
import { evaluateOOD, type EvaluateOptions, type OODMetricName, type OODReport } from '../ood/evaluate.js';
import { formatValue, loadScores } from './arrays.js';
import { printJson, table } from './output.js';

export interface EvalCliOptions {
  idScores: string;
  oodScores: string;
  tpr: number;
  bootstrap?: number;
  seed?: number;
  json?: boolean;
}

const METRICS: OODMetricName[] = ['auroc', 'fpr95', 'fpr95_ood_positive', 'aupr_in', 'aupr_out', 'ap_in', 'ap_out', 'detection_error'];

export async function runEval(options: EvalCliOptions): Promise<void> {
  if (options.seed !== undefined && options.bootstrap === undefined) {
    fail('ERR_INVALID_ARGUMENT', '--seed', '--bootstrap to go with it', 'a seed without bootstrapping');
  }
  const id = await loadScores(options.idScores, '--id-scores');
  const ood = await loadScores(options.oodScores, '--ood-scores');
  const evaluateOptions: EvaluateOptions = { tpr: options.tpr };
  if (options.bootstrap !== undefined) evaluateOptions.bootstrap = { samples: options.bootstrap, seed: options.seed ?? 0 };
  const report = evaluateOOD(id, ood, evaluateOptions);
  if (options.json) return printJson(report);
  printReport(report, options.tpr);
}

function printReport(report: OODReport, tpr: number): void {
  const ci = report.ci;
  const headers = ci ? ['metric', 'value', '95% CI low', '95% CI high'] : ['metric', 'value'];
  const rows = METRICS.map((key) => {
    const row = [key, formatValue(report[key])];
    return ci ? [...row, formatValue(ci[key][0]), formatValue(ci[key][1])] : row;
  });
  console.log(table(headers, rows));
  console.log(`\n${report.n_id} ID scores, ${report.n_ood} OOD scores, higher = more in-distribution.`);
  // The two FPR conventions differ on real data; say which is which so numbers are not compared across papers blindly.
  console.log(`FPR at TPR ${tpr}: fpr95: paper convention, ID positive; fpr95_ood_positive: OpenOOD/pytorch-ood (OOD positive).`);
}
