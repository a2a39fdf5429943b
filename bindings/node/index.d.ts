// Types of the libnnfs Node.js binding (index.js).
export type Activation = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax';
export type OptimizerKind = 'sgd' | 'adagrad' | 'rmsprop' | 'adam';

export class NNError extends Error {
  status: number;          // NN_ERR_* value
  code: string;            // 'NN_ERR_FORMAT', ...
  nnMessage: string;       // nn_last_error() right after the failing call
  call: string;            // the C function, e.g. 'nn_predict'
}

declare class Handle {
  readonly closed: boolean;
  close(): void;
}

export class Net extends Handle {
  constructor(sizes: number[], activations: (Activation | number)[], seed?: number | bigint);
  readonly numLayers: number;
  readonly sizes: number[];
  readonly activations: Activation[];
  readonly numParams: number;
  readonly nIn: number;
  readonly nOut: number;
  init(scheme?: number, gain?: number, seed?: number, layer?: number): void;
  getWeights(layer: number): { weights: Float32Array; biases: Float32Array; nIn: number; nOut: number };
  setWeights(layer: number, weights?: Float32Array | null, biases?: Float32Array | null): void;
  predict(x: Float32Array, out?: Float32Array): Float32Array;
  forward(x: Float32Array, out?: Float32Array): Float32Array;
  backwardLabels(labels: Int32Array): number;
  save(file: string): void;
  static load(file: string): Net;
  toBuffer(): Buffer;
  static fromBuffer(buf: Uint8Array | ArrayBuffer): Net;
  toOnnx(): Buffer;
  toOnnx(file: string): undefined;
  static fromOnnx(source: string | Uint8Array | ArrayBuffer): Net;
}

export class Optimizer extends Handle {
  constructor(net: Net, kind?: OptimizerKind | number, settings?: Record<string, number>);
  readonly net: Net;
  set(setting: string | number, value: number): void;
  get(setting: string | number): number;
  step(): void;
}

export interface FitResult { loss: number; accuracy: number; valLoss: number; valAccuracy: number }

export class Trainer extends Handle {
  constructor(net: Net, opt: Optimizer, settings?: Record<string, number | string>);
  set(setting: string | number, value: number | string): void;
  metric(m: string | number): number;
  fit(x: Float32Array,
      data: { labels?: Int32Array | null; targets?: Float32Array | null },
      validation?: { valX?: Float32Array | null; valLabels?: Int32Array | null; valTargets?: Float32Array | null }): FitResult;
}

export function spiral(samples: number, classes: number, seed?: number): { x: Float32Array; labels: Int32Array };
export function accuracy(out: Float32Array, batch: number, nOut: number, labels: Int32Array): number;
export function idxRead(file: string, scale?: 'none' | 'unit'): { data: Float32Array; count: number; sampleSize: number };
export function idxReadLabels(file: string): Int32Array;
export function version(): string;
export function info(key: number): string | null;
export function setNumThreads(n: number): void;
export function strerror(status: number): string;
