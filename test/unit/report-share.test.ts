// checkWithinShare: a report is any part of the rank's share, in any order, each index once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/core/random.js';
import { checkWithinShare } from '../../src/core/requests.js';

describe('a report against its share', () => {
  it('accepts any part in any order, and names the first repeat or stranger (200 seeded shares up to 5,000)', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 200; trial++) {
      const size = 1 + rng.nextInt(5000);
      const pool = new Set<number>();
      while (pool.size < size + 1) pool.add(rng.nextInt(2 ** 26));
      const [stranger, ...rest] = [...pool];
      const share = Uint32Array.from(rest);
      const part = [...share].sort(() => rng.nextFloat() - 0.5).slice(0, 1 + rng.nextInt(size));
      checkWithinShare(Uint32Array.from(part), share, 3, 1);
      const at = rng.nextInt(part.length);
      const repeated = [...part.slice(0, at), part[0]!, ...part.slice(at)].slice(0, share.length);
      if (at > 0 && repeated.length > at) {
        assert.throws(() => checkWithinShare(Uint32Array.from(repeated), share, 3, 1), new RegExp(`^SamplerError: indices\\[${at}\\]: ${part[0]} appears twice`));
      }
      const withStranger = [...part];
      withStranger[at] = stranger!;
      assert.throws(() => checkWithinShare(Uint32Array.from(withStranger), share, 3, 1), new RegExp(`^SamplerError: indices\\[${at}\\]: ${stranger} is not in rank 1's share of step 3`));
    }
  });
});
