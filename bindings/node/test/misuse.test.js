'use strict';
// Handle misuse through a raw FFI, as a user of koffi without the typed
// wrappers would do it (issue 13): every handle is an untyped void *, so
// an optimizer can be passed where a net is expected.  The library must
// answer NN_ERR_MISUSE with a message, never garbage or a crash.
const test = require('node:test');
const assert = require('node:assert/strict');
const nn = require('..');

const lib = nn.library;
const raw = {
  netCreate: lib.func('int nn_net_create(_Out_ void **out, size_t, const size_t *, const int32_t *, uint64_t)'),
  optCreate: lib.func('int nn_optimizer_create(_Out_ void **out, void *, int32_t)'),
  forward: lib.func('int nn_forward(void *, const float *, size_t, _Out_ float *)'),
  optStep: lib.func('int nn_optimizer_step(void *)'),
  numLayers: lib.func('size_t nn_net_num_layers(const void *)'),
  save: lib.func('int nn_net_save_buffer(const void *, _Out_ uint8_t *buf, size_t, _Out_ size_t *size)'),
  netDestroy: lib.func('void nn_net_destroy(void *)'),
  optDestroy: lib.func('void nn_optimizer_destroy(void *)'),
  lastError: lib.func('const char *nn_last_error(void)'),
};
const MISUSE = nn.STATUS.indexOf('MISUSE');

test('NN_ERR_MISUSE is status 9', () => {
  assert.equal(MISUSE, 9);
  assert.match(nn.strerror(9), /handle/);
});

test('an optimizer passed as a net is refused, not read as one', () => {
  const net = [null], opt = [null];
  assert.equal(raw.netCreate(net, 2, new BigUint64Array([2n, 4n, 3n]),
                             Int32Array.from([1, 4]), 1n), 0);
  assert.equal(raw.optCreate(opt, net[0], 3), 0);
  const x = new Float32Array([0.1, 0.2]), out = new Float32Array(3);
  assert.equal(raw.forward(opt[0], x, 1, out), MISUSE);
  assert.match(raw.lastError(), /nn_forward: net is not a live nn_net \(it is an nn_optimizer\)/);
  assert.deepEqual(Array.from(out), [0, 0, 0]);
  assert.equal(raw.optStep(net[0]), MISUSE);
  assert.match(raw.lastError(), /nn_optimizer_step: opt is not a live nn_optimizer \(it is an nn_net\)/);
  // a getter without a status returns 0 and says why
  assert.equal(Number(raw.numLayers(opt[0])), 0);
  assert.match(raw.lastError(), /nn_net_num_layers/);
  const size = [0];
  assert.equal(raw.save(opt[0], null, 0, size), MISUSE);
  // destroying through the wrong type frees nothing: both still work
  raw.netDestroy(opt[0]);
  assert.match(raw.lastError(), /nn_net_destroy/);
  assert.equal(raw.forward(net[0], x, 1, out), 0);
  assert.equal(Number(raw.numLayers(net[0])), 2);
  raw.optDestroy(opt[0]);
  raw.netDestroy(net[0]);
});

test('the typed wrappers refuse a closed handle before C sees it', () => {
  const net = new nn.Net([2, 3], ['softmax'], 1);
  net.close();
  assert.throws(() => net.predict(new Float32Array([1, 2])), /closed/);
});
