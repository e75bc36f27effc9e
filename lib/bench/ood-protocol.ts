// `ncod bench ood --protocol fashion|mnist`: the table on the paper's own models. Per seed, the baseline and the
// NC-controlled model are trained as `bench paper` trains them (lib/bench/paper.ts), and every layer of each becomes
// a layer of the table, named `baseline.enc1`, `nc_control.projector`, … (with `@seed` appended when several seeds
// run), so the Friedman ranking has blocks = layer × OOD set × seed. The protocol's first OOD set (the other five
// classes of the ID dataset) is near, the second (the other dataset) far. The layer the classifier reads gets the
// trained head, so the logit detectors run there; the other layers run the detectors that need no head. The models'
// features are computed in memory (the training data is), and the table reads them as in-memory row sources.
import type { BackendName } from '../backend.js';
import { classifierHead } from '../train/checkpoint.js';
import type { Trainer } from '../train/trainer.js';
import { memoryRows } from './ood-rows.js';
import type { OodBenchData, OodLayer, OodSet } from './ood-spec.js';
import { paperData, paperSettings, reportedLayers, RUN_KINDS, trainPaperModel, type PaperData } from './paper.js';
import type { ProtocolName } from './paper-types.js';

export interface OodProtocolOptions {
  protocol: ProtocolName;
  seeds?: number[];
  epochs?: number;
  layers?: number[];
  quick?: boolean;
  backend?: BackendName;
  signal?: AbortSignal;
  /** A description of the current stage and the fraction of the models trained. */
  onProgress?: (stage: string, fraction: number) => void;
}

/** The table's input: every layer of every model trained on the protocol's ID set, with the protocol's OOD sets. */
export async function protocolOodData(o: OodProtocolOptions): Promise<OodBenchData> {
  const s = paperSettings(o);
  const data = await paperData(o, s);
  const ood: OodSet[] = data.ood.map((set, i) => ({ name: set.name, group: i === 0 ? 'near' : 'far', layers: new Map() }));
  const layers: OodLayer[] = [];
  const total = s.seeds.length * RUN_KINDS.length;
  let done = 0;
  for (const seed of s.seeds) {
    for (const kind of RUN_KINDS) {
      o.signal?.throwIfAborted();
      o.onProgress?.(`seed ${seed}, ${kind}: training`, done / total);
      const trainer = await trainPaperModel(data, kind, s, seed, o.signal);
      const suffix = s.seeds.length > 1 ? `@${seed}` : '';
      for (const layer of await modelLayers(trainer, data, `${kind}.`, suffix)) {
        layers.push(layer.layer);
        layer.ood.forEach((features, i) => ood[i].layers.set(layer.layer.name, memoryRows(features, layer.layer.dim)));
      }
      done++;
    }
  }
  o.onProgress?.('trained', 1);
  return { trainLabels: data.id.split.train.labels, testLabels: data.id.split.test.labels, numClasses: data.id.classes, layers, ood };
}

/** Each reported layer of one trained model: its ID train/test features, the head where the classifier reads, OOD features. */
async function modelLayers(trainer: Trainer, data: PaperData, prefix: string, suffix: string): Promise<{ layer: OodLayer; ood: Float32Array[] }[]> {
  const head = classifierHead(trainer);
  const out: { layer: OodLayer; ood: Float32Array[] }[] = [];
  for (const name of reportedLayers(trainer)) {
    const train = await trainer.features(data.id.split.train.features, name);
    const test = await trainer.features(data.id.split.test.features, name);
    const ood = await Promise.all(data.ood.map((set) => trainer.features(set.split.test.features, name)));
    const dim = train.length / data.id.split.train.rows;
    const withHead = name === head.layer ? { weights: head.weight, bias: head.bias, numClasses: head.shape[0] } : undefined;
    out.push({ layer: { name: `${prefix}${name}${suffix}`, dim, train: memoryRows(train, dim), test: memoryRows(test, dim), head: withHead }, ood });
  }
  return out;
}
