import { readFile, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ClassifierError } from './errors.js';
import { LinearClassifier, type ModelData } from './linear-classifier.js';
import type { BlockSpec } from './tfidf.js';

/**
 * Model file: gzip of [magic "MRC1"][u32 header length][header JSON][arrays]. The header
 * holds labels, specs and metadata; the arrays (n-gram hashes, idf, weights) follow as
 * raw little-endian bytes, 4-byte aligned, so loading is a copy instead of parsing
 * hundreds of thousands of JSON numbers. Version 2 adds a network (header `mlpHidden`,
 * its arrays after the linear ones); a model without one is still written as version 1.
 */
const MAGIC = 'MRC1';
const FORMAT_VERSIONS = [1, 2];

interface Header {
  format: 'mailroom-classifier';
  version: number;
  labels: string[];
  sublinearTf: boolean;
  temperature: number;
  abstainThreshold: number;
  numFeatures: number;
  /** Hidden units of the network (version 2 only). */
  mlpHidden?: number;
  blocks: { spec: BlockSpec; size: number }[];
  meta: Record<string, unknown>;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesOf(a: Uint32Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function encodeModel(data: ModelData): Buffer {
  const header: Header = {
    format: 'mailroom-classifier',
    version: data.mlp ? 2 : 1,
    labels: data.labels,
    sublinearTf: data.sublinearTf,
    temperature: data.temperature,
    abstainThreshold: data.abstainThreshold,
    numFeatures: data.linear.numFeatures,
    ...(data.mlp ? { mlpHidden: data.mlp.hidden.numClasses } : {}),
    blocks: data.blocks.map((b) => ({ spec: b.spec, size: b.hashes.length })),
    meta: data.meta,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((8 + json.length) % 4)) % 4;
  const prefix = Buffer.alloc(8);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length + pad, 4);
  const parts: Uint8Array[] = [prefix, json, Buffer.alloc(pad, 0x20)];
  for (const b of data.blocks) parts.push(bytesOf(b.hashes), bytesOf(b.idf));
  parts.push(bytesOf(data.linear.weights), bytesOf(data.linear.bias));
  if (data.mlp) {
    const { hidden, output } = data.mlp;
    parts.push(bytesOf(hidden.weights), bytesOf(hidden.bias));
    parts.push(bytesOf(output.weights), bytesOf(output.bias));
  }
  // Level 6: float weights compress no better at 9 (37.2 vs 37.1 MB for a banking77
  // svm-mlp model) and level 9 took 4.7 s of its training command instead of 1.2.
  return gzipSync(Buffer.concat(parts), { level: 6 });
}

function invalid(message: string, cause?: unknown): ClassifierError {
  return new ClassifierError('MODEL_INVALID', message, { cause });
}

export function decodeModel(file: Buffer): ModelData {
  if (!littleEndian) throw invalid('model files are little-endian; this platform is not');
  let raw: Buffer;
  try {
    raw = gunzipSync(file);
  } catch (cause) {
    throw invalid('model file is not gzip data', cause);
  }
  if (raw.length < 8 || raw.toString('latin1', 0, 4) !== MAGIC) {
    throw invalid('not a mailroom classifier model file');
  }
  const headerLength = raw.readUInt32LE(4);
  let header: Header;
  try {
    header = JSON.parse(raw.toString('utf8', 8, 8 + headerLength)) as Header;
  } catch (cause) {
    throw invalid('model header is not valid JSON', cause);
  }
  if (header.format !== 'mailroom-classifier' || !FORMAT_VERSIONS.includes(header.version)) {
    throw invalid(`unsupported model format ${String(header.format)} v${String(header.version)}`);
  }
  // Copy into fresh, aligned buffers; the gunzip buffer's offset is not guaranteed.
  let offset = 8 + headerLength;
  const take = (count: number): ArrayBuffer => {
    const end = offset + count * 4;
    if (end > raw.length) throw invalid('model file is truncated');
    const out = new ArrayBuffer(count * 4);
    new Uint8Array(out).set(raw.subarray(offset, end));
    offset = end;
    return out;
  };
  const blocks = header.blocks.map(({ spec, size }) => ({
    spec,
    hashes: new Uint32Array(take(size)),
    idf: new Float32Array(take(size)),
  }));
  const k = header.labels.length;
  const f = blocks.reduce((a, b) => a + b.hashes.length, 0);
  if (f !== header.numFeatures) throw invalid('model feature count does not match its blocks');
  const weights = new Float32Array(take(f * k));
  const bias = new Float32Array(take(k));
  let mlp: ModelData['mlp'];
  if (header.version >= 2) {
    const h = header.mlpHidden;
    if (!(typeof h === 'number' && Number.isInteger(h) && h > 0)) {
      throw invalid('model header has no valid mlpHidden');
    }
    mlp = {
      hidden: {
        numFeatures: f,
        numClasses: h,
        weights: new Float32Array(take(f * h)),
        bias: new Float32Array(take(h)),
      },
      output: {
        numFeatures: h,
        numClasses: k,
        weights: new Float32Array(take(h * k)),
        bias: new Float32Array(take(k)),
      },
    };
  }
  if (offset !== raw.length) throw invalid('model file has trailing bytes');
  return {
    labels: header.labels,
    sublinearTf: header.sublinearTf,
    blocks,
    linear: { numFeatures: f, numClasses: k, weights, bias },
    ...(mlp ? { mlp } : {}),
    temperature: header.temperature,
    abstainThreshold: header.abstainThreshold,
    meta: header.meta,
  };
}

export async function saveModel(classifier: LinearClassifier, path: string): Promise<number> {
  const bytes = encodeModel(classifier.data);
  await writeFile(path, bytes);
  return bytes.length;
}

/** Loads a model file written by saveModel. */
export async function loadModel(path: string): Promise<LinearClassifier> {
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch (cause) {
    throw new ClassifierError('FILE_NOT_FOUND', `cannot read model ${path}`, { cause });
  }
  return new LinearClassifier(decodeModel(file));
}
