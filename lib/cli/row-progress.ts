// Progress of a long stream of rows on a terminal: rows done, rows/s and ETA on stderr. Nothing when stderr is
// not a terminal, so scripts and tests get clean output.
import cliProgress from 'cli-progress';

export interface RowProgress {
  /** `done` of `total` rows (total unknown: a count without a bar's end), with a label such as the layer. */
  update(done: number, total: number | undefined, label?: string): void;
  stop(): void;
}

const SILENT: RowProgress = { update() {}, stop() {} };

export function rowProgress(task: string): RowProgress {
  if (!process.stderr.isTTY) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${task} {bar} {percentage}% | {label} | {value}/{total} rows | {speed} rows/s | ETA {eta_formatted}`,
      clearOnComplete: true,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let running = false;
  return {
    update(done, total, label = '') {
      if (!running) {
        bar.start(total ?? done, 0, { label, speed: '-' });
        running = true;
      }
      if (total !== undefined) bar.setTotal(total);
      const seconds = (Date.now() - started) / 1000;
      bar.update(done, { label, speed: seconds > 0 ? Math.round(done / seconds).toLocaleString('en') : '-' });
    },
    stop() {
      if (running) bar.stop();
    },
  };
}
