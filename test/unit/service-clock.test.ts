// The service's only clock is the one it is given: creation time, each epoch's start time and the
// last activity all come from it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { SamplerService } from '../../src/service/sampler-service.js';
import { MemoryStorage } from '../../src/storage/memory-storage.js';

describe('the injected clock', () => {
  it('stamps creation, epoch starts and activity', () => {
    let ms = Date.UTC(2026, 0, 1);
    const service = new SamplerService(new MemoryStorage(), pino({ level: 'silent' }), { now: () => new Date(ms) });
    assert.equal(service.create('c', { datasetSize: 20, numClasses: 3, batchSize: 10, epochs: 3 }).createdAt, '2026-01-01T00:00:00.000Z');
    ms += 60_000;
    const { indices } = service.nextBatch({ sampler: 'c', step: 2 }); // epoch 1 starts
    assert.equal(service.inspect('c').epochStats.get(1)?.startedAt, '2026-01-01T00:01:00.000Z');
    ms += 1_000;
    service.report({ sampler: 'c', step: 2, indices, predictedLabels: Array.from(indices, () => 0) });
    assert.equal(service.inspect('c').lastActivityMs, ms);
  });
});
