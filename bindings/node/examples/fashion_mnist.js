'use strict';
// Fashion-MNIST from Node.js: 784-128-10 (ReLU, softmax), Adam, mini-batches
// of 128, on the IDX files of /usr/share/datasets/fashion-mnist (Debian's
// dataset-fashion-mnist) or --data DIR.  Exits 77 when the data is missing,
// 1 when the test accuracy stays under --min-accuracy.
//   node examples/fashion_mnist.js [--epochs N] [--limit N] [--min-accuracy A]
//                                  [--onnx OUT.onnx]
const fs = require('node:fs');
const path = require('node:path');
const nn = require('..');

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const dir = arg('--data', '/usr/share/datasets/fashion-mnist');
const epochs = Number(arg('--epochs', 5)), limit = Number(arg('--limit', 60000));
const minAcc = Number(arg('--min-accuracy', 0.85));
const f = (n) => path.join(dir, n);
if (!fs.existsSync(f('train-images-idx3-ubyte.gz'))) {
  console.log(`Fashion-MNIST not found in ${dir} (apt-get install dataset-fashion-mnist)`);
  process.exit(77);
}
const train = nn.idxRead(f('train-images-idx3-ubyte.gz'), 'unit');
const trainLabels = nn.idxReadLabels(f('train-labels-idx1-ubyte.gz'));
const test = nn.idxRead(f('t10k-images-idx3-ubyte.gz'), 'unit');
const testLabels = nn.idxReadLabels(f('t10k-labels-idx1-ubyte.gz'));
const n = Math.min(limit, train.count);

const net = new nn.Net([784, 128, 10], ['relu', 'softmax'], 1);
const adam = new nn.Optimizer(net, 'adam', { learningRate: 0.001, decay: 1e-4 });
const trainer = new nn.Trainer(net, adam, { epochs, batchSize: 128, seed: 1 });
const t0 = Date.now();
const r = trainer.fit(train.data.subarray(0, n * 784), { labels: trainLabels.subarray(0, n) },
                      { valX: test.data, valLabels: testLabels });
const acc = nn.accuracy(net.predict(test.data), test.count, 10, testLabels);
console.log(`Fashion-MNIST 784-128-10, ${n} images x ${epochs} epochs in ` +
            `${((Date.now() - t0) / 1000).toFixed(1)} s: training loss ${r.loss.toFixed(4)}, ` +
            `test accuracy ${(100 * acc).toFixed(2)}%`);
const onnx = arg('--onnx');
if (onnx) { net.toOnnx(onnx); console.log(`ONNX model written to ${onnx}`); }
net.close();
process.exit(acc >= minAcc ? 0 : 1);
