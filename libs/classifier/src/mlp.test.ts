import { gzipSync, gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLabeledCsv, type LabeledExample } from './csv.js';
import { evaluateClassifier } from './evaluate-model.js';
import { fuseClassifiers } from './fused-classifier.js';
import { LinearClassifier } from './linear-classifier.js';
import { addMlpOutput, concatMlps, trainMlp } from './mlp.js';
import { decodeModel, encodeModel } from './model-file.js';
import { scoreInto } from './softmax-regression.js';
import { BANKING_TRAIN } from './test-data.js';
import type { SparseMatrix } from './tfidf.js';
import { trainFromExamples } from './train.js';

/** Class scores of a network for one sparse row. */
function mlpScores(
  net: ReturnType<typeof trainMlp>,
  indices: number[],
  values: number[],
): Float64Array {
  const pre = new Float64Array(net.hidden.numClasses);
  scoreInto(net.hidden, indices, values, 0, indices.length, pre);
  const z = new Float64Array(net.output.numClasses);
  addMlpOutput(pre, net.output, z);
  return z;
}

const argmax = (z: Float64Array): number => z.indexOf(Math.max(...z));

describe('trainMlp', () => {
  // XOR over two features: "a" alone or "b" alone is class 0, both or neither class 1.
  // No linear model separates it; one hidden layer does.
  const rows: [number[], number][] = [
    [[0], 0],
    [[1], 0],
    [[0, 1], 1],
    [[], 1],
  ];
  const x: SparseMatrix = {
    indptr: Int32Array.from([0, 1, 2, 4, 4]),
    indices: Int32Array.from([0, 1, 0, 1]),
    values: Float32Array.from([1, 1, 1, 1]),
    numRows: 4,
    numFeatures: 2,
  };
  const y = Int32Array.from(rows.map((r) => r[1]));
  const opts = { hidden: 16, epochs: 400, learningRate: 0.2, dropout: 0, initScale: 1, seed: 3 };

  it('learns a class boundary no linear model has (XOR)', () => {
    const net = trainMlp(x, y, 2, opts);
    for (const [features, label] of rows) {
      expect(
        argmax(
          mlpScores(
            net,
            features,
            features.map(() => 1),
          ),
        ),
      ).toBe(label);
    }
  });

  it('concatenates networks into one whose scores are their weighted mean', () => {
    const a = trainMlp(x, y, 2, opts);
    const b = trainMlp(x, y, 2, { ...opts, seed: 4 });
    const both = concatMlps([a, b], 0.5);
    expect(both.hidden.numClasses).toBe(32);
    for (const [features] of rows) {
      const v = features.map(() => 1);
      const za = mlpScores(a, features, v);
      const zb = mlpScores(b, features, v);
      const z = mlpScores(both, features, v);
      for (let c = 0; c < 2; c++) expect(z[c]).toBeCloseTo((0.5 * (za[c]! + zb[c]!)) / 2, 5);
    }
  });
});

describe("learner 'svm-mlp'", () => {
  let train: LabeledExample[];
  let heldOut: LabeledExample[];
  let svm: LinearClassifier;
  let hybrid: LinearClassifier;
  beforeAll(async () => {
    const { examples } = await readLabeledCsv(BANKING_TRAIN, ['text'], 'category');
    train = examples.filter((_, i) => i % 6 === 0);
    heldOut = examples.filter((_, i) => i % 6 === 1).slice(0, 400);
    const options = { seed: 7, c: [1], validation: 0.2 };
    svm = trainFromExamples(train, options).classifier;
    hybrid = trainFromExamples(train, { ...options, learner: 'svm-mlp' }).classifier;
  });

  it('adds the networks to the same SVM', () => {
    expect(svm.data.mlp).toBeUndefined();
    const mlp = hybrid.data.mlp!;
    expect(mlp.hidden.numClasses).toBe(128);
    expect(mlp.hidden.numFeatures).toBe(hybrid.numFeatures);
    expect(mlp.output.numClasses).toBe(77);
    expect(hybrid.data.linear.weights).toEqual(svm.data.linear.weights);
    // Its scores are the SVM's plus the network's, however the model is asked.
    const text = 'My card has still not arrived, when will it come?';
    const z = new Float64Array(77);
    hybrid.rawScores(text, z);
    const zSvm = new Float64Array(77);
    svm.rawScores(text, zSvm);
    expect(z).not.toEqual(zSvm);
    const fused = fuseClassifiers([hybrid, svm]);
    expect(fused.passes).toBe(2);
    const [pHybrid, pSvm] = fused.probabilities(text);
    expect([...pHybrid!]).toEqual([...hybrid.probabilities(text)]);
    expect([...pSvm!]).toEqual([...svm.probabilities(text)]);
  });

  it('is at least as accurate as the SVM alone on a held-out slice', () => {
    const a = evaluateClassifier(svm.withAbstainThreshold(0), heldOut).accuracy;
    const b = evaluateClassifier(hybrid.withAbstainThreshold(0), heldOut).accuracy;
    expect(b).toBeGreaterThanOrEqual(a);
  });

  it('round-trips through a version-2 model file; SVM models stay version 1', () => {
    const version = (bytes: Buffer): number => {
      const raw = gunzipSync(bytes);
      const header = JSON.parse(raw.toString('utf8', 8, 8 + raw.readUInt32LE(4))) as {
        version: number;
      };
      return header.version;
    };
    const bytes = encodeModel(hybrid.data);
    expect(version(bytes)).toBe(2);
    expect(version(encodeModel(svm.data))).toBe(1);
    const loaded = new LinearClassifier(decodeModel(bytes));
    for (const e of heldOut.slice(0, 100)) {
      expect(loaded.predict(e.text)).toEqual(hybrid.predict(e.text));
    }
    // A version-2 header without its network size is refused with a clear error.
    const raw = gunzipSync(bytes);
    const length = raw.readUInt32LE(4);
    const header = raw.toString('utf8', 8, 8 + length).replace('"mlpHidden"', '"mlpHiddeX"');
    const broken = Buffer.concat([
      raw.subarray(0, 8),
      Buffer.from(header),
      raw.subarray(8 + length),
    ]);
    expect(() => decodeModel(gzipSync(broken))).toThrow(/mlpHidden/);
  });
});
