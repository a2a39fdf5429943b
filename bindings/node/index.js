'use strict';
/*
 * libnnfs for Node.js, through koffi (no compiler needed).
 *
 * Handles are wrapped in classes (Net, Optimizer, Trainer) holding a
 * typed koffi pointer: a Net can only be passed where libnnfs takes an
 * nn_net *.  Data goes in and out as Float32Array (labels Int32Array).
 * A failing call throws NNError with the status, its name and
 * nn_last_error()'s message, read on the same thread right after the call
 * (the message is per thread; see include/nnfs.h).  Lifetimes follow the
 * C rules: a Trainer before its Optimizer, an Optimizer before its Net;
 * Net.close() closes what was made from it first.
 *
 * The library is found from LIBNNFS_PATH, else libnnfs.so.0 on the
 * loader's path (an installed libnnfs), else ../../build/libnnfs.so.
 */
const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');

function findLibrary() {
  if (process.env.LIBNNFS_PATH) return process.env.LIBNNFS_PATH;
  const built = path.join(__dirname, '..', '..', 'build', 'libnnfs.so');
  for (const name of ['libnnfs.so.0', 'libnnfs.so']) {
    try { koffi.load(name); return name; } catch (e) { /* next */ }
  }
  if (fs.existsSync(built)) return built;
  throw new Error('libnnfs: library not found; set LIBNNFS_PATH to ' +
                  'libnnfs.so or install libnnfs');
}

const lib = koffi.load(findLibrary());

/* Typed opaque handles: koffi refuses a Net where an Optimizer goes. */
const NetT = koffi.opaque('nn_net');
const OptT = koffi.opaque('nn_optimizer');
const TrainerT = koffi.opaque('nn_trainer');
const NetP = koffi.pointer(NetT);
const OptP = koffi.pointer(OptT);
const TrainerP = koffi.pointer(TrainerT);

const C = {
  version: lib.func('const char *nn_version(void)'),
  strerror: lib.func('const char *nn_strerror(int)'),
  lastError: lib.func('const char *nn_last_error(void)'),
  info: lib.func('const char *nn_info(int32_t)'),
  setThreads: lib.func('int nn_set_num_threads(int)'),
  netCreate: lib.func('int nn_net_create(_Out_ nn_net **out, size_t, const size_t *, const int32_t *, uint64_t)'),
  netInit: lib.func('int nn_net_init(nn_net *, size_t, int32_t, double, uint64_t)'),
  netDestroy: lib.func('void nn_net_destroy(nn_net *)'),
  numLayers: lib.func('size_t nn_net_num_layers(const nn_net *)'),
  layerInputs: lib.func('size_t nn_net_layer_inputs(const nn_net *, size_t)'),
  layerOutputs: lib.func('size_t nn_net_layer_outputs(const nn_net *, size_t)'),
  layerAct: lib.func('int32_t nn_net_layer_activation(const nn_net *, size_t)'),
  numParams: lib.func('size_t nn_net_num_params(const nn_net *)'),
  getParams: lib.func('int nn_net_get_params(const nn_net *, size_t, _Out_ float *w, _Out_ float *b)'),
  setParams: lib.func('int nn_net_set_params(nn_net *, size_t, const float *, const float *)'),
  forward: lib.func('int nn_forward(nn_net *, const float *, size_t, _Out_ float *)'),
  backward: lib.func('int nn_backward(nn_net *, int32_t, const float *, _Out_ float *)'),
  backwardLabels: lib.func('int nn_backward_labels(nn_net *, const int32_t *, _Out_ float *)'),
  predict: lib.func('int nn_predict(nn_net *, const float *, size_t, _Out_ float *)'),
  accuracy: lib.func('int nn_accuracy(const float *, size_t, size_t, const int32_t *, _Out_ float *)'),
  save: lib.func('int nn_net_save(const nn_net *, const char *)'),
  load: lib.func('int nn_net_load(_Out_ nn_net **out, const char *)'),
  saveBuffer: lib.func('int nn_net_save_buffer(const nn_net *, _Out_ uint8_t *buf, size_t, _Out_ size_t *size)'),
  loadBuffer: lib.func('int nn_net_load_buffer(_Out_ nn_net **out, const uint8_t *, size_t)'),
  exportOnnx: lib.func('int nn_net_export_onnx(const nn_net *, const char *)'),
  exportOnnxBuffer: lib.func('int nn_net_export_onnx_buffer(const nn_net *, _Out_ uint8_t *buf, size_t, _Out_ size_t *size)'),
  importOnnx: lib.func('int nn_net_import_onnx(_Out_ nn_net **out, const char *)'),
  importOnnxBuffer: lib.func('int nn_net_import_onnx_buffer(_Out_ nn_net **out, const uint8_t *, size_t)'),
  optCreate: lib.func('int nn_optimizer_create(_Out_ nn_optimizer **out, nn_net *, int32_t)'),
  optDestroy: lib.func('void nn_optimizer_destroy(nn_optimizer *)'),
  optSet: lib.func('int nn_optimizer_set(nn_optimizer *, int32_t, double)'),
  optGet: lib.func('int nn_optimizer_get(const nn_optimizer *, int32_t, _Out_ double *value)'),
  optStep: lib.func('int nn_optimizer_step(nn_optimizer *)'),
  trainerCreate: lib.func('int nn_trainer_create(_Out_ nn_trainer **out, nn_net *, nn_optimizer *)'),
  trainerDestroy: lib.func('void nn_trainer_destroy(nn_trainer *)'),
  trainerSet: lib.func('int nn_trainer_set(nn_trainer *, int32_t, double)'),
  trainerMetric: lib.func('int nn_trainer_metric(const nn_trainer *, int32_t, _Out_ double *value)'),
  trainerFit: lib.func('int nn_trainer_fit(nn_trainer *, const float *, const float *, const int32_t *, size_t, const float *, const float *, const int32_t *, size_t)'),
  spiral: lib.func('int nn_data_spiral(_Out_ float *x, _Out_ int32_t *labels, size_t, size_t, uint64_t)'),
  idxInfo: lib.func('int nn_idx_info(const char *, _Out_ size_t *count, _Out_ size_t *sample_size)'),
  idxRead: lib.func('int nn_idx_read(const char *, _Out_ float *, size_t, size_t, int32_t)'),
  idxReadLabels: lib.func('int nn_idx_read_labels(const char *, _Out_ int32_t *, size_t)'),
};

/* Status codes, activations, losses, ... (the header's enums). */
const STATUS = ['OK', 'INVALID_ARG', 'SHAPE', 'NOMEM', 'IO', 'FORMAT',
                'NONFINITE', 'STATE', 'UNSUPPORTED', 'MISUSE'];
const ACT = { linear: 0, relu: 1, sigmoid: 2, tanh: 3, softmax: 4 };
const ACT_NAMES = Object.keys(ACT);
const LOSS = { cce: 0, bce: 1, mse: 2, mae: 3 };
const OPT = { sgd: 0, adagrad: 1, rmsprop: 2, adam: 3 };
const OPT_SETTING = { learningRate: 0, decay: 1, momentum: 2, epsilon: 3,
                      rho: 4, beta1: 5, beta2: 6, iterations: 7,
                      currentLearningRate: 8 };
const TRAIN_SETTING = { loss: 0, batchSize: 1, epochs: 2, shuffle: 3,
                        seed: 4, accuracy: 5, precision: 6, reportEvery: 7 };
const METRIC = { epoch: 0, step: 1, loss: 2, accuracy: 3, regLoss: 4,
                 valLoss: 5, valAccuracy: 6, learningRate: 7, seconds: 8,
                 stepsPerEpoch: 9, stopped: 10 };
const IDX_SCALE = { none: 0, unit: 1 };

class NNError extends Error {
  constructor(status, fn) {
    const message = C.lastError();
    super(`${STATUS[status] ? 'NN_ERR_' + STATUS[status] : 'status ' + status}: ${message}`);
    this.name = 'NNError';
    this.status = status;
    this.code = STATUS[status] ? 'NN_ERR_' + STATUS[status] : String(status);
    this.nnMessage = message;
    this.call = fn;
  }
}

/* Every status goes through here, right after the call (same thread). */
function check(status, fn) {
  if (status !== 0) throw new NNError(status, fn);
}

function lookup(table, value, what) {
  if (typeof value === 'number') return value;
  if (!(value in table)) {
    throw new TypeError(`libnnfs: unknown ${what} '${value}' (one of ${Object.keys(table).join(', ')})`);
  }
  return table[value];
}

function f32(a, n, what) {
  if (!(a instanceof Float32Array)) {
    throw new TypeError(`libnnfs: ${what} must be a Float32Array`);
  }
  if (n !== undefined && a.length !== n) {
    throw new RangeError(`libnnfs: ${what} has ${a.length} floats, ${n} expected`);
  }
  return a;
}

function rowsOf(x, width, what) {
  f32(x, undefined, what);
  if (x.length === 0 || x.length % width !== 0) {
    throw new RangeError(`libnnfs: ${what} has ${x.length} floats, not a positive multiple of ${width}`);
  }
  return x.length / width;
}

class Handle {
  constructor(ptr, destroy) { this._ptr = ptr; this._destroy = destroy; }
  get ptr() {
    if (this._ptr === null) throw new Error(`libnnfs: ${this.constructor.name} is closed`);
    return this._ptr;
  }
  get closed() { return this._ptr === null; }
  close() {
    if (this._ptr !== null) { this._destroy(this._ptr); this._ptr = null; }
  }
}

class Net extends Handle {
  /* new Net([2, 64, 3], ['relu', 'softmax'], seed) */
  constructor(sizes, activations, seed = 0) {
    let ptr;
    if (sizes === Net._adopt) {
      ptr = activations;
    } else {
      if (!Array.isArray(sizes) || sizes.length < 2) {
        throw new TypeError('libnnfs: sizes must be an array of at least 2 widths');
      }
      if (!Array.isArray(activations) || activations.length !== sizes.length - 1) {
        throw new TypeError('libnnfs: one activation per layer (sizes.length - 1)');
      }
      const acts = Int32Array.from(activations, (a) => lookup(ACT, a, 'activation'));
      const out = [null];
      const sz = new BigUint64Array(sizes.map((s) => BigInt(s)));
      check(C.netCreate(out, acts.length, sz, acts, BigInt(seed)), 'nn_net_create');
      ptr = out[0];
    }
    super(ptr, C.netDestroy);
    this._children = new Set();
  }

  static _wrap(ptr) { return new Net(Net._adopt, ptr); }

  /* closes its trainers and optimizers first (the C lifetime rule) */
  close() {
    for (const c of [...this._children]) c.close();
    super.close();
  }

  get numLayers() { return Number(C.numLayers(this.ptr)); }
  get sizes() {
    const L = this.numLayers, s = [Number(C.layerInputs(this.ptr, 0))];
    for (let i = 0; i < L; i++) s.push(Number(C.layerOutputs(this.ptr, i)));
    return s;
  }
  get activations() {
    const a = [];
    for (let i = 0; i < this.numLayers; i++) a.push(ACT_NAMES[C.layerAct(this.ptr, i)]);
    return a;
  }
  get numParams() { return Number(C.numParams(this.ptr)); }
  get nIn() { return this.sizes[0]; }
  get nOut() { return this.sizes[this.numLayers]; }

  init(scheme = 0, gain = 1.0, seed = 0, layer = -1) {
    const l = layer < 0 ? 0xffffffffffffffffn : BigInt(layer);
    check(C.netInit(this.ptr, l, scheme, gain, BigInt(seed)), 'nn_net_init');
  }

  getWeights(layer) {
    const ni = Number(C.layerInputs(this.ptr, layer));
    const no = Number(C.layerOutputs(this.ptr, layer));
    const w = new Float32Array(ni * no), b = new Float32Array(no);
    check(C.getParams(this.ptr, layer, w, b), 'nn_net_get_params');
    return { weights: w, biases: b, nIn: ni, nOut: no };
  }

  setWeights(layer, weights, biases) {
    check(C.setParams(this.ptr, layer, weights ?? null, biases ?? null),
          'nn_net_set_params');
  }

  /* x: Float32Array of batch * nIn; returns batch * nOut outputs */
  predict(x, out) {
    const nIn = this.nIn, nOut = this.nOut;
    const batch = rowsOf(x, nIn, 'x');
    out = out ? f32(out, batch * nOut, 'out') : new Float32Array(batch * nOut);
    check(C.predict(this.ptr, x, batch, out), 'nn_predict');
    return out;
  }

  forward(x, out) {
    const batch = rowsOf(x, this.nIn, 'x');
    out = out ? f32(out, batch * this.nOut, 'out') : new Float32Array(batch * this.nOut);
    check(C.forward(this.ptr, x, batch, out), 'nn_forward');
    return out;
  }

  backwardLabels(labels) {
    const loss = [0];
    check(C.backwardLabels(this.ptr, labels, loss), 'nn_backward_labels');
    return loss[0];
  }

  save(file) { check(C.save(this.ptr, file), 'nn_net_save'); }
  static load(file) {
    const out = [null];
    check(C.load(out, file), 'nn_net_load');
    return Net._wrap(out[0]);
  }

  toBuffer() { return sized(C.saveBuffer, this.ptr, 'nn_net_save_buffer'); }
  static fromBuffer(buf) {
    const out = [null];
    const u8 = bytes(buf);
    check(C.loadBuffer(out, u8, u8.length), 'nn_net_load_buffer');
    return Net._wrap(out[0]);
  }

  /* the ONNX model as a Buffer, or written to file when given */
  toOnnx(file) {
    if (file !== undefined) {
      check(C.exportOnnx(this.ptr, file), 'nn_net_export_onnx');
      return undefined;
    }
    return sized(C.exportOnnxBuffer, this.ptr, 'nn_net_export_onnx_buffer');
  }
  static fromOnnx(source) {
    const out = [null];
    if (typeof source === 'string') {
      check(C.importOnnx(out, source), 'nn_net_import_onnx');
    } else {
      const u8 = bytes(source);
      check(C.importOnnxBuffer(out, u8, u8.length), 'nn_net_import_onnx_buffer');
    }
    return Net._wrap(out[0]);
  }

  toString() { return `Net(${JSON.stringify(this.sizes)}, ${JSON.stringify(this.activations)})`; }
}
Net._adopt = Symbol('adopt');

function bytes(buf) {
  if (buf instanceof Uint8Array) return buf;
  if (buf instanceof ArrayBuffer) return new Uint8Array(buf);
  throw new TypeError('libnnfs: expected a Buffer, Uint8Array or ArrayBuffer');
}

/* nn_*_buffer's size query, then the write */
function sized(fn, ptr, name) {
  const n = [0];
  check(fn(ptr, null, 0, n), name);
  const buf = Buffer.alloc(Number(n[0]));
  check(fn(ptr, buf, buf.length, n), name);
  return buf.subarray(0, Number(n[0]));
}

class Optimizer extends Handle {
  /* new Optimizer(net, 'adam', { learningRate: 0.05, decay: 5e-7 }) */
  constructor(net, kind = 'adam', settings = {}) {
    if (!(net instanceof Net)) throw new TypeError('libnnfs: Optimizer needs a Net');
    const out = [null];
    check(C.optCreate(out, net.ptr, lookup(OPT, kind, 'optimizer')), 'nn_optimizer_create');
    super(out[0], C.optDestroy);
    this.net = net;
    this._children = new Set();
    net._children.add(this);
    for (const [k, v] of Object.entries(settings)) this.set(k, v);
  }
  set(setting, value) {
    check(C.optSet(this.ptr, lookup(OPT_SETTING, setting, 'setting'), value), 'nn_optimizer_set');
  }
  get(setting) {
    const v = [0];
    check(C.optGet(this.ptr, lookup(OPT_SETTING, setting, 'setting'), v), 'nn_optimizer_get');
    return v[0];
  }
  step() { check(C.optStep(this.ptr), 'nn_optimizer_step'); }
  close() {
    for (const c of [...this._children]) c.close();
    if (this.net) this.net._children.delete(this);
    super.close();
  }
}

class Trainer extends Handle {
  /* new Trainer(net, opt, { epochs: 10, batchSize: 128 }) */
  constructor(net, opt, settings = {}) {
    if (!(net instanceof Net) || !(opt instanceof Optimizer)) {
      throw new TypeError('libnnfs: Trainer needs a Net and its Optimizer');
    }
    const out = [null];
    check(C.trainerCreate(out, net.ptr, opt.ptr), 'nn_trainer_create');
    super(out[0], C.trainerDestroy);
    this.net = net;
    this.opt = opt;
    net._children.add(this);
    opt._children.add(this);
    for (const [k, v] of Object.entries(settings)) this.set(k, v);
  }
  set(setting, value) {
    const s = lookup(TRAIN_SETTING, setting, 'setting');
    if (s === TRAIN_SETTING.loss) value = lookup(LOSS, value, 'loss');
    check(C.trainerSet(this.ptr, s, value), 'nn_trainer_set');
  }
  metric(m) {
    const v = [0];
    check(C.trainerMetric(this.ptr, lookup(METRIC, m, 'metric'), v), 'nn_trainer_metric');
    return v[0];
  }
  /* fit(x, { labels } | { targets }, { valX, valLabels, valTargets }) */
  fit(x, { labels = null, targets = null } = {}, { valX = null, valLabels = null, valTargets = null } = {}) {
    const n = rowsOf(x, this.net.nIn, 'x');
    const nVal = valX ? rowsOf(valX, this.net.nIn, 'valX') : 0;
    check(C.trainerFit(this.ptr, x, targets, labels, n, valX, valTargets, valLabels, nVal),
          'nn_trainer_fit');
    return { loss: this.metric('loss'), accuracy: this.metric('accuracy'),
              valLoss: this.metric('valLoss'), valAccuracy: this.metric('valAccuracy') };
  }
  close() {
    this.net?._children.delete(this);
    this.opt?._children.delete(this);
    super.close();
  }
}

/* Utilities */
function spiral(samples, classes, seed = 0) {
  const x = new Float32Array(samples * classes * 2);
  const labels = new Int32Array(samples * classes);
  check(C.spiral(x, labels, samples, classes, BigInt(seed)), 'nn_data_spiral');
  return { x, labels };
}

function accuracy(out, batch, nOut, labels) {
  const acc = [0];
  check(C.accuracy(out, batch, nOut, labels, acc), 'nn_accuracy');
  return acc[0];
}

function idxRead(file, scale = 'unit') {
  const count = [0], size = [0];
  check(C.idxInfo(file, count, size), 'nn_idx_info');
  const n = Number(count[0]), s = Number(size[0]);
  const out = new Float32Array(n * s);
  check(C.idxRead(file, out, n, s, lookup(IDX_SCALE, scale, 'scale')), 'nn_idx_read');
  return { data: out, count: n, sampleSize: s };
}

function idxReadLabels(file) {
  const count = [0], size = [0];
  check(C.idxInfo(file, count, size), 'nn_idx_info');
  const labels = new Int32Array(Number(count[0]));
  check(C.idxReadLabels(file, labels, labels.length), 'nn_idx_read_labels');
  return labels;
}

module.exports = {
  Net, Optimizer, Trainer, NNError,
  spiral, accuracy, idxRead, idxReadLabels,
  version: () => C.version(),
  info: (key) => C.info(key),
  setNumThreads: (n) => check(C.setThreads(n), 'nn_set_num_threads'),
  strerror: (s) => C.strerror(s),
  ACT, LOSS, OPT, OPT_SETTING, TRAIN_SETTING, METRIC, STATUS,
  library: lib,
};
