import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrozenDistribution } from '../../src/core/distribution.js';
import { Rng } from '../../src/core/random.js';
import { normalizeConfig } from '../../src/core/sampler-config.js';
import { adaptiveBatch, permutationBatch } from '../../src/core/strategy.js';
import { Uint32Slab } from '../../src/core/typed-slab.js';
import { WeightedDistribution } from '../../src/core/weighted-distribution.js';

describe('Uint32Slab', () => {
  it('makes zeroed arrays of the asked length that never share memory, across buffers', () => {
    const slab = new Uint32Slab(1024); // 256 elements a buffer, arrays of up to 16 share one
    const lengths = Array.from({ length: 200 }, (_, i) => 1 + (i % 16));
    const arrays = lengths.map((length) => slab.take(length));
    arrays.forEach((a, i) => {
      assert.equal(a.length, lengths[i]);
      assert.ok(a.every((v) => v === 0), `array ${i} is zeroed`);
      a.fill(i + 1);
    });
    arrays.forEach((a, i) => assert.ok(a.every((v) => v === i + 1), `array ${i} kept its values`));
    assert.ok(new Set(arrays.map((a) => a.buffer)).size > 1, 'more than one shared buffer was used');
  });

  it('gives an array over a sixteenth of a buffer a buffer of its own', () => {
    const slab = new Uint32Slab(1024);
    const big = slab.take(17);
    assert.equal(big.buffer.byteLength, 17 * 4);
    assert.equal(slab.take(16).buffer.byteLength, 1024);
  });
});

describe('batches made in a slab', () => {
  // Batches are part of the file format (src/DESIGN.md): where their array comes from must not
  // change them, and a later draw must not change an earlier one (draws share scratch space).
  const level = Uint16Array.from({ length: 5000 }, (_, i) => (i * 7) % 5);
  const uncertainty = [1, 0, 0.25, 0.5, 0.75];

  it('are those of arrays of their own, for both ways of drawing and every strategy', () => {
    const mild = new FrozenDistribution(level, uncertainty, 3); // b << N: rejection
    const skewed = new FrozenDistribution(level, uncertainty, 1e9); // few heavy samples: swaps
    const weighted = new WeightedDistribution(Float64Array.from({ length: 5000 }, (_, i) => 1 + (i % 11)), 1);
    const config = normalizeConfig({ datasetSize: 5000, numClasses: 10, batchSize: 256, epochs: 3, seed: 4 });
    const kinds: [string, (allocate?: (n: number) => Uint32Array) => Uint32Array[]][] = [
      ['rejection', (a) => Array.from({ length: 40 }, (_, s) => adaptiveBatch(config, s, mild, a))],
      ['swaps', (a) => Array.from({ length: 40 }, (_, s) => skewed.draw(256, new Rng(2, s), a))],
      ['weighted', (a) => Array.from({ length: 40 }, (_, s) => weighted.draw(256, new Rng(3, s), a))],
      ['permutation', (a) => Array.from({ length: 20 }, (_, s) => permutationBatch(config, 1, s, a))],
    ];
    for (const [kind, draw] of kinds) {
      const slab = new Uint32Slab(16_384); // a new buffer every 16 batches of 256
      const inSlab = draw(slab.take); // all kept while the later ones are drawn
      const own = draw();
      assert.deepEqual(inSlab, own, kind);
      assert.ok(inSlab.every((b) => b.buffer.byteLength === 16_384), `${kind}: made in the slab`);
    }
  });
});
