'use strict';
// The binding itself: typed handles, Float32Array in and out, errors as
// exceptions carrying nn_last_error, lifetimes, persistence; predictions
// checked against a float64 forward written here in JavaScript from the
// weights the binding reads back (an independent reference for the
// marshalling and the row-major layout).
const test = require('node:test');
const assert = require('node:assert/strict');
const nn = require('..');

function refForward(net, x) {
  const L = net.numLayers;
  let a = Float64Array.from(x), width = net.nIn;
  const rows = x.length / width;
  const acts = net.activations;
  for (let l = 0; l < L; l++) {
    const { weights: w, biases: b, nIn, nOut } = net.getWeights(l);
    const z = new Float64Array(rows * nOut);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < nOut; j++) {
        let s = b[j];
        for (let i = 0; i < nIn; i++) s += a[r * nIn + i] * w[i * nOut + j];
        z[r * nOut + j] = s;
      }
      const row = z.subarray(r * nOut, (r + 1) * nOut);
      if (acts[l] === 'relu') row.forEach((v, j) => { row[j] = Math.max(0, v); });
      if (acts[l] === 'sigmoid') row.forEach((v, j) => { row[j] = 1 / (1 + Math.exp(-v)); });
      if (acts[l] === 'tanh') row.forEach((v, j) => { row[j] = Math.tanh(v); });
      if (acts[l] === 'softmax') {
        const m = Math.max(...row);
        let s = 0;
        row.forEach((v, j) => { row[j] = Math.exp(v - m); s += row[j]; });
        row.forEach((v, j) => { row[j] = v / s; });
      }
    }
    a = z;
    width = nOut;
  }
  return a;
}

test('predict matches a float64 JavaScript forward for every activation', () => {
  for (const act of ['linear', 'relu', 'sigmoid', 'tanh', 'softmax']) {
    const net = new nn.Net([5, 8, 4], ['tanh', act], 7);
    const x = new Float32Array(40).map((_, i) => Math.sin(i * 1.7));
    const out = net.predict(x);
    assert.ok(out instanceof Float32Array);
    assert.equal(out.length, 8 * 4);
    const ref = refForward(net, x);
    for (let i = 0; i < out.length; i++) {
      assert.ok(Math.abs(out[i] - ref[i]) <= 1e-5 * Math.max(1, Math.abs(ref[i])),
                `${act}[${i}]: ${out[i]} vs ${ref[i]}`);
    }
    net.close();
  }
});

test('errors are NNError exceptions carrying nn_last_error', () => {
  const net = new nn.Net([2, 3], ['softmax'], 1);
  assert.throws(() => net.predict(new Float32Array([NaN, 1])), (e) => {
    assert.ok(e instanceof nn.NNError);
    assert.equal(e.code, 'NN_ERR_NONFINITE');
    assert.equal(e.status, 6);
    assert.equal(e.call, 'nn_predict');
    assert.match(e.nnMessage, /^nn_predict: x\[0\] \(row 0, column 0\) is NaN/);
    return true;
  });
  assert.throws(() => nn.Net.fromBuffer(Buffer.from('not a model')),
                (e) => e.code === 'NN_ERR_FORMAT' && /nn_net_load_buffer/.test(e.message));
  assert.throws(() => nn.Net.load('/nonexistent/dir/m.nnfs'),
                (e) => e.code === 'NN_ERR_IO' && /\/nonexistent\/dir\/m\.nnfs/.test(e.message));
  assert.throws(() => new nn.Net([2, 0], ['relu']), (e) => e.code === 'NN_ERR_INVALID_ARG');
  net.close();
});

test('arguments: Float32Array only, sizes checked before the call', () => {
  const net = new nn.Net([2, 3], ['relu'], 1);
  assert.throws(() => net.predict([1, 2]), TypeError);
  assert.throws(() => net.predict(new Float64Array(2)), TypeError);
  assert.throws(() => net.predict(new Float32Array(3)), RangeError);
  assert.throws(() => net.predict(new Float32Array(2), new Float32Array(2)), RangeError);
  assert.throws(() => new nn.Net([2, 3], ['swish']), TypeError);
  net.close();
});

test('handles are typed: an Optimizer is refused where a Net goes', () => {
  const net = new nn.Net([2, 3], ['relu'], 1);
  const opt = new nn.Optimizer(net, 'sgd');
  const f = nn.library.func('size_t nn_net_num_layers(const nn_net *)');
  assert.equal(Number(f(net.ptr)), 1);
  assert.throws(() => f(opt.ptr), TypeError);
  assert.throws(() => new nn.Optimizer(opt), TypeError);
  net.close();
});

test('lifetimes: closing a net closes its trainer and optimizer first', () => {
  const net = new nn.Net([2, 4, 3], ['relu', 'softmax'], 1);
  const opt = new nn.Optimizer(net, 'adam', { learningRate: 0.01 });
  const tr = new nn.Trainer(net, opt, { epochs: 2 });
  assert.equal(opt.get('learningRate'), 0.01);
  net.close();
  assert.ok(tr.closed && opt.closed && net.closed);
  assert.throws(() => net.predict(new Float32Array(2)), /Net is closed/);
  net.close();  // twice is fine
  const n2 = new nn.Net([2, 3], ['relu'], 1);
  const o2 = new nn.Optimizer(n2);
  o2.close();
  assert.ok(!n2.closed);
  n2.close();
});

test('spiral: Adam trains 2-64-3; save/load and buffers are exact', () => {
  const { x, labels } = nn.spiral(100, 3, 0);
  const net = new nn.Net([2, 64, 3], ['relu', 'softmax'], 0);
  const opt = new nn.Optimizer(net, 'adam', { learningRate: 0.05, decay: 5e-7 });
  const tr = new nn.Trainer(net, opt, { epochs: 1000 });
  const r = tr.fit(x, { labels });
  assert.ok(r.accuracy > 0.85, `accuracy ${r.accuracy}`);
  const out = net.predict(x);
  assert.ok(Math.abs(nn.accuracy(out, 300, 3, labels) - r.accuracy) < 0.05);
  const buf = net.toBuffer();
  const back = nn.Net.fromBuffer(buf);
  assert.deepEqual(back.predict(x), out);
  assert.deepEqual(back.toBuffer(), buf);
  back.close();
  net.close();
});

test('10000 spiral epochs from Node give the model `nnfs train` writes, byte for byte', (t) => {
  const cli = process.env.NNFS_CLI;
  if (!cli) { t.skip('NNFS_CLI not set (the CTest run sets it)'); return; }
  const fs = require('node:fs');
  const os = require('node:os');
  const path = require('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnfs-node-'));
  const file = path.join(dir, 'c.nnfs');
  // nnfs train's defaults: spiral(100, 3, seed 0), 2-64-3 relu/softmax from
  // seed 0, Adam lr 0.05 decay 5e-7, 10000 full-batch epochs, shuffled
  // with seed 0
  require('node:child_process').execFileSync(cli, ['train', '-q', '-o', file]);
  const { x, labels } = nn.spiral(100, 3, 0);
  const net = new nn.Net([2, 64, 3], ['relu', 'softmax'], 0);
  const adam = new nn.Optimizer(net, 'adam', { learningRate: 0.05, decay: 5e-7 });
  new nn.Trainer(net, adam, { epochs: 10000, shuffle: 1, seed: 0 }).fit(x, { labels });
  assert.ok(net.toBuffer().equals(fs.readFileSync(file)));
  net.close();
  fs.rmSync(dir, { recursive: true });
});
