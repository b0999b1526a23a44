// The count of a request's repeated values, read on the wire before decoding: it must equal what
// decoding makes, in every encoding the wire allows, or the budget bounds nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { SamplerError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/random.js';
import { MAX_REQUEST_VALUES, RequestDecoder, repeatedValueCount } from '../../src/grpc/request-decoding.js';
import { samplerProto } from '../../src/proto.js';

const service = samplerProto().recency_sampler.v1.SamplerService.service;
const REPORT = 'recency_sampler.v1.ReportPredictionsRequest';
const BULK = 'recency_sampler.v1.ReportPredictionsBulkRequest';

/** Values of every varint width, 1 to 5 bytes. */
function varints(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextInt(2 ** (7 * (1 + rng.nextInt(4)))) + (rng.nextInt(8) === 0 ? 2 ** 31 : 0));
}

function randomReport(rng: Rng) {
  const n = rng.nextInt(300);
  const floats = () => (rng.nextInt(2) ? Array.from({ length: n }, () => rng.nextFloat()) : []);
  return { sampler: 's', step: rng.nextInt(1000), indices: varints(rng, n), predictedLabels: varints(rng, n), losses: floats(), trueClassProbs: floats(), datasetLabels: rng.nextInt(2) ? varints(rng, n) : [] };
}

const repeatedLength = (r: ReturnType<typeof randomReport>) =>
  r.indices.length + r.predictedLabels.length + r.losses.length + r.trueClassProbs.length + r.datasetLabels.length;

describe('counting a request\'s repeated values on the wire', () => {
  it('equals the values decoding makes, for seeded reports and bulk requests (packed fields)', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 100; trial++) {
      const report = randomReport(rng);
      assert.equal(repeatedValueCount(REPORT, service.ReportPredictions.requestSerialize(report)), repeatedLength(report));
      const reports = Array.from({ length: rng.nextInt(6) }, () => randomReport(rng));
      const bytes = service.ReportPredictionsBulk.requestSerialize({ reports });
      // A repeated message counts as one value, plus its own.
      assert.equal(repeatedValueCount(BULK, bytes), reports.reduce((sum, r) => sum + 1 + repeatedLength(r), 0));
    }
  });

  it('counts unpacked values as decoding reads them, and a packed run split in two', () => {
    const writer = protobuf.Writer.create();
    writer.uint32((1 << 3) | 2).string('s');
    for (const index of [1, 300, 2 ** 31]) writer.uint32((4 << 3) | 0).uint32(index); // indices, unpacked
    writer.uint32((5 << 3) | 2).fork().uint32(7).uint32(70_000).uint32(1).ldelim(); // predicted_labels, packed
    writer.uint32((5 << 3) | 2).fork().uint32(2).ldelim(); // ... and a second run of them
    writer.uint32((6 << 3) | 5).float(0.25); // losses, unpacked
    const bytes = writer.finish();
    const decoded = service.ReportPredictions.requestDeserialize(Buffer.from(bytes));
    assert.deepEqual([decoded.indices, decoded.predictedLabels, decoded.losses], [[1, 300, 2 ** 31], [7, 70_000, 1, 2], [0.25]]);
    assert.equal(repeatedValueCount(REPORT, bytes), 8);
  });
});

describe('RequestDecoder', () => {
  const refusal = (field: string, budget: number) => new RegExp(`^(SamplerError: )?${field.replace(/[[\].]/g, '\\$&')}: the request carries more than ${budget} repeated values`);

  it('decodes a request at the budget as grpc-js would, and refuses one value more, naming the field', () => {
    const decoder = new RequestDecoder(service, 10);
    const report = { sampler: 's', step: 3, indices: [1, 2, 3, 4, 5], predictedLabels: [0, 1, 0, 1, 0] };
    const bytes = service.ReportPredictions.requestSerialize(report);
    assert.deepEqual(decoder.decode('ReportPredictions', bytes), service.ReportPredictions.requestDeserialize(bytes));
    const over = service.ReportPredictions.requestSerialize({ ...report, losses: [0.5] });
    assert.throws(() => decoder.decode('ReportPredictions', over), (e: unknown) => e instanceof SamplerError && e.kind === 'invalid_argument' && refusal('losses', 10).test(e.message));
    // 1 + 2 values in reports[0], 1 + 7 in reports[1]: the 11th is reports[1].indices' 7th.
    const bulk = service.ReportPredictionsBulk.requestSerialize({ reports: [{ sampler: 's', indices: [1, 2] }, { sampler: 's', indices: [3, 4, 5, 6, 7, 8, 9] }] });
    assert.throws(() => decoder.decode('ReportPredictionsBulk', bulk), refusal('reports[1].indices', 10));
  });

  it('lets the widest legitimate report through: every repeated field of a share of b = 65,536', () => {
    const n = MAX_REQUEST_VALUES / 5;
    const indices = Array.from({ length: n }, (_, i) => i);
    const floats = indices.map(() => 0.5);
    const bytes = service.ReportPredictions.requestSerialize({ sampler: 's', indices, predictedLabels: indices, losses: floats, trueClassProbs: floats, datasetLabels: indices });
    const decoded = new RequestDecoder(service).decode<{ datasetLabels: number[] }>('ReportPredictions', bytes);
    assert.equal(decoded.datasetLabels.length, n);
    assert.throws(() => new RequestDecoder(service).decode('ReportPredictions', Buffer.concat([bytes, Buffer.from([(4 << 3) | 0, 1])])), refusal('indices', MAX_REQUEST_VALUES));
  });

  it('names a malformed request: a length past the end, a field overrunning its message, a bad wire type', () => {
    const decoder = new RequestDecoder(service);
    const inner = service.ReportPredictions.requestSerialize({ sampler: 's', indices: [1, 2, 3] });
    const overrun = Buffer.concat([Buffer.from([0x0a, inner.length - 2]), inner]); // reports[0] cut short inside `indices`
    for (const bytes of [Buffer.from([0x0a, 0xff, 0xff, 0x03, 0x01]), overrun, Buffer.from([0x0f])]) {
      assert.throws(() => decoder.decode('ReportPredictionsBulk', bytes), /^SamplerError: request: is not a valid ReportPredictionsBulkRequest message \(/);
    }
  });
});
