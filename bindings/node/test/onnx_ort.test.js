'use strict';
// libnnfs -> ONNX -> ONNX Runtime (onnxruntime-node, its CPU provider):
// every activation x depth 1..3, on random rows and on real Fashion-MNIST
// test images, against nn_predict.  Bound: |ort - libnnfs| <= 1e-5 times
// max(1, max |libnnfs|) over the batch (both are float32 programs; the
// sums run in different orders), and the same argmax on every row.  Also
// the README's path: a model trained by `nnfs train` (NNFS_CLI), exported
// by `nnfs export`, run in ORT.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const ort = require('onnxruntime-node');
const nn = require('..');

const BOUND = 1e-5;
const DATA = process.env.NNFS_FASHION_DIR || '/usr/share/datasets/fashion-mnist';
const ACTS = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax'];
const worst = { abs: 0, rel: 0, relBig: 0, rows: 0 };

function argmax(a, r, n) {
  let best = 0;
  for (let j = 1; j < n; j++) if (a[r * n + j] > a[r * n + best]) best = j;
  return best;
}

async function compare(net, x, what) {
  const session = await ort.InferenceSession.create(net.toOnnx());
  const rows = x.length / net.nIn;
  const res = await session.run({ input: new ort.Tensor('float32', x, [rows, net.nIn]) });
  const got = res.output.data;
  const ref = net.predict(x);
  assert.deepEqual(res.output.dims, [rows, net.nOut]);
  let scale = 1, maxAbs = 0, maxRel = 0;
  for (const v of ref) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    maxAbs = Math.max(maxAbs, d);
    if (ref[i] !== 0) maxRel = Math.max(maxRel, d / Math.abs(ref[i]));
    if (Math.abs(ref[i]) >= 1e-3) worst.relBig = Math.max(worst.relBig, d / Math.abs(ref[i]));
  }
  assert.ok(maxAbs <= BOUND * scale, `${what}: max |ort - libnnfs| = ${maxAbs} over ${BOUND * scale}`);
  if (net.nOut > 1) {
    for (let r = 0; r < rows; r++) {
      assert.equal(argmax(got, r, net.nOut), argmax(ref, r, net.nOut), `${what}: argmax of row ${r}`);
    }
  }
  worst.abs = Math.max(worst.abs, maxAbs / scale);
  worst.rel = Math.max(worst.rel, maxRel);
  worst.rows += rows;
  return { maxAbs, maxRel };
}

function randomRows(rows, cols, seed) {
  // xorshift32 -> roughly N(0, 1) by summing 4 uniforms
  let s = seed >>> 0 || 1;
  const u = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
  return Float32Array.from({ length: rows * cols }, () => (u() + u() + u() + u() - 2) * 1.7);
}

function fashionRows(n) {
  const file = path.join(DATA, 't10k-images-idx3-ubyte.gz');
  if (!fs.existsSync(file)) return null;
  const { data, sampleSize } = nn.idxRead(file, 'unit');
  return data.subarray(0, n * sampleSize);
}

test('every activation x depth 1..3 in ONNX Runtime, random and real rows', async (t) => {
  const real = fashionRows(500);
  if (real === null) t.diagnostic(`Fashion-MNIST not in ${DATA}: random rows only`);
  for (const act of ACTS) {
    for (let depth = 1; depth <= 3; depth++) {
      const sizes = [784, 32, 16].slice(0, depth).concat([10]);
      const net = new nn.Net(sizes, Array(depth).fill(act), 100 + depth);
      await compare(net, randomRows(300, 784, 7 * depth + act.length), `${act} x ${depth} random`);
      if (real !== null) await compare(net, real, `${act} x ${depth} Fashion-MNIST`);
      net.close();
    }
  }
  t.diagnostic(`ORT vs nn_predict over ${worst.rows} rows: max abs error ${worst.abs.toExponential(3)} ` +
               `(relative to max(1, |output|)), max relative error ${worst.rel.toExponential(3)} ` +
               `(${worst.relBig.toExponential(3)} over outputs >= 1e-3 in magnitude)`);
});

test('a model trained by `nnfs train` runs in ONNX Runtime', async (t) => {
  const cli = process.env.NNFS_CLI;
  if (!cli) { t.skip('NNFS_CLI not set (the CTest run sets it)'); return; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnfs-ort-'));
  const model = path.join(dir, 'spiral.nnfs'), onnx = path.join(dir, 'spiral.onnx');
  execFileSync(cli, ['train', '--epochs', '300', '-o', model], { stdio: 'pipe' });
  execFileSync(cli, ['export', model, onnx], { stdio: 'pipe' });
  const net = nn.Net.load(model);
  const session = await ort.InferenceSession.create(onnx);
  const { x, labels } = nn.spiral(100, 3, 0);
  const out = (await session.run({ input: new ort.Tensor('float32', x, [300, 2]) })).output.data;
  const ref = net.predict(x);
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(out[i] - ref[i]) <= BOUND);
  let hits = 0;
  for (let r = 0; r < 300; r++) hits += argmax(out, r, 3) === labels[r];
  assert.ok(hits / 300 > 0.6, `ORT accuracy ${hits / 300}`);
  net.close();
  fs.rmSync(dir, { recursive: true });
});

test('an ONNX model imported back is the same net, bit for bit', () => {
  const net = new nn.Net([6, 5, 4], ['tanh', 'softmax'], 3);
  const back = nn.Net.fromOnnx(net.toOnnx());
  for (let l = 0; l < 2; l++) {
    assert.deepEqual(back.getWeights(l), net.getWeights(l));
  }
  assert.throws(() => nn.Net.fromOnnx(net.toOnnx().subarray(0, 100)),
                (e) => e.code === 'NN_ERR_FORMAT' && /nn_net_import_onnx_buffer/.test(e.message));
  net.close();
  back.close();
});
