'use strict';
// The NNFS course's spiral classifier from Node.js: 2-64-3, ReLU and
// softmax, Adam (lr 0.05, decay 5e-7), 10000 epochs on 100 points per
// class.  Exits 1 unless the training accuracy reaches --min-accuracy.
//   node examples/spiral.js [--epochs N] [--min-accuracy A]
const nn = require('..');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const epochs = opt('--epochs', 10000), minAcc = opt('--min-accuracy', 0.9);

const { x, labels } = nn.spiral(100, 3, 0);
const net = new nn.Net([2, 64, 3], ['relu', 'softmax'], 0);
const adam = new nn.Optimizer(net, 'adam', { learningRate: 0.05, decay: 5e-7 });
const trainer = new nn.Trainer(net, adam, { epochs });
const t0 = Date.now();
const r = trainer.fit(x, { labels });
console.log(`spiral 2-64-3, ${epochs} epochs in ${((Date.now() - t0) / 1000).toFixed(2)} s: ` +
            `loss ${r.loss.toFixed(4)}, accuracy ${(100 * r.accuracy).toFixed(1)}%`);
net.close();  // closes the trainer and the optimizer first
process.exit(r.accuracy >= minAcc ? 0 : 1);
