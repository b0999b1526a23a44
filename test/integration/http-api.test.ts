// The HTTP inspection API against a real server fed by the simulated trainer over gRPC: every
// route through fastify's inject and through a real port, the numbers checked against what the
// trainer was served and reported, and every kind of bad request.
import * as grpc from '@grpc/grpc-js';
import { status, type ServiceError } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SamplerClient } from '../../src/client/sampler-client.js';
import { selectionPressure } from '../../src/core/schedule.js';
import { normalizeConfig } from '../../src/core/sampler-config.js';
import { trainSteps, type TrainedStep } from '../../src/sim/simulated-trainer.js';
import { startTestServer } from '../helpers/server.js';

const config = { datasetSize: 200, numClasses: 5, batchSize: 20, epochs: 4, window: 2, warmupEpochs: 1, seed: 4 };
const model = { numClasses: 5, uncertainEvery: 4, seed: 1 };
const STEPS = 15; // one warm-up epoch of 10 steps, then half an adaptive one

type Json = Record<string, unknown> & { [key: string]: any };

describe('HTTP inspection API', () => {
  let app: Awaited<ReturnType<typeof startTestServer>>['app'];
  let trained: TrainedStep[];
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const response = await app.http.inject({ method: 'GET', url, headers });
    return { status: response.statusCode, body: response.body, json: () => response.json() as Json, headers: response.headers };
  };

  const cleanups: (() => void | Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  before(async () => {
    ({ app } = await startTestServer({ after: (fn) => cleanups.push(fn) }));
    const client = new SamplerClient(`127.0.0.1:${app.grpcPort}`);
    await client.createSampler('sim', config);
    trained = await trainSteps(client, 'sim', model, 0, STEPS, 2);
    client.close();
  });

  it('answers liveness and readiness', async () => {
    assert.deepEqual((await get('/healthz')).json(), { status: 'ok' });
    assert.deepEqual((await get('/readyz')).json(), { ready: true });
  });

  it('lists samplers and details one: progress, s_e, reports per rank, F histogram', async () => {
    const list = (await get('/v1/samplers')).json();
    assert.deepEqual(list.samplers.map((s: Json) => s.name), ['sim']);
    const detail = (await get('/v1/samplers/sim')).json();
    assert.equal(detail.step, STEPS - 1);
    assert.equal(detail.epoch, 1);
    assert.equal(detail.phase, 'ADAPTIVE');
    assert.ok(Math.abs(detail.selectionPressure - selectionPressure(1, normalizeConfig(config))) < 1e-12);
    assert.equal(detail.batchesServed, STEPS);
    assert.deepEqual(detail.reportsPerRank, [
      { rank: 0, reports: STEPS, predictions: STEPS * 10, lastStep: STEPS - 1 },
      { rank: 1, reports: STEPS, predictions: STEPS * 10, lastStep: STEPS - 1 },
    ]);
    assert.equal(detail.histogram.reduce((a: number, c: number) => a + c, 0), 200);
    assert.equal(detail.neverSeen, 0, 'warm-up showed every sample once');
    // Settled samples (3 of 4) have F = 0; uncertain ones mostly disagree with themselves.
    const values = detail.uncertaintyValues as { uncertainty: number; samples: number; meanDrawn: number }[];
    assert.ok((values.find((v) => v.uncertainty === 0)?.samples ?? 0) >= 150, 'at least the settled samples are at F = 0');
    assert.equal(values.reduce((a, v) => a + v.samples, 0), 200);
    const totalDraws = values.reduce((a, v) => a + v.samples * v.meanDrawn, 0);
    assert.ok(Math.abs(totalDraws - STEPS * 20) < 1e-9, `draws ${totalDraws}`);
    assert.ok(Date.parse(detail.lastActivity) > 0);
  });

  it('shows each sample as it was served and reported', async () => {
    for (const index of [0, 1, 8, 199]) {
      const sample = (await get(`/v1/samplers/sim/samples/${index}`)).json();
      const steps = trained.filter((s) => s.indices.includes(index));
      const labels = steps.map((s) => s.labels[s.indices.indexOf(index)]!);
      assert.deepEqual(sample.window, labels.slice(-2), `window of ${index}`);
      assert.equal(sample.valid, Math.min(2, labels.length));
      assert.equal(sample.drawn, new Set(steps.map((s) => s.step)).size, `drawn ${index}`);
      assert.equal(sample.lastReportedStep, steps.at(-1)?.step ?? null);
      assert.ok(sample.latestLoss > 0 && sample.trueClassProb.reports === steps.length);
    }
    // P(i) of the current epoch sums to 1 over the data set.
    const page = (await get('/v1/samplers/sim/samples?order=index&limit=1000')).json();
    const total = page.samples.reduce((a: number, s: Json) => a + s.probability, 0);
    assert.ok(Math.abs(total - 1) < 1e-9, `sum of P = ${total}`);
  });

  it('pages samples by uncertainty, by draws and by index', async () => {
    const all = (await get('/v1/samplers/sim/samples?order=index&limit=1000')).json().samples as Json[];
    assert.deepEqual(all.map((s) => s.index), [...Array(200).keys()]);
    const byF = [...all].sort((a, b) => b.uncertainty - a.uncertainty || a.index - b.index).map((s) => s.index);
    const byDrawn = [...all].sort((a, b) => b.drawn - a.drawn || a.index - b.index).map((s) => s.index);
    for (const [order, expected] of [['uncertainty', byF], ['drawn', byDrawn]] as const) {
      const first = (await get(`/v1/samplers/sim/samples?order=${order}&limit=30`)).json();
      const second = (await get(`/v1/samplers/sim/samples?order=${order}&limit=30&offset=30`)).json();
      assert.deepEqual([...first.samples, ...second.samples].map((s: Json) => s.index), expected.slice(0, 60), order);
      assert.equal(first.total, 200);
    }
    assert.deepEqual((await get('/v1/samplers/sim/samples?offset=190&limit=50')).json().samples.length, 10);
  });

  it('exports every sample as CSV and as JSON Lines', async () => {
    const csv = await get('/v1/samplers/sim/export?format=csv');
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    const lines = csv.body.trimEnd().split('\n');
    assert.equal(lines.length, 201);
    assert.equal(lines[0], 'index,valid,window,uncertainty,probability,drawn,last_reported_step,latest_loss,true_class_prob_reports,true_class_prob_mean,true_class_prob_std_hat');
    const jsonl = (await get('/v1/samplers/sim/export?format=jsonl')).body.trimEnd().split('\n').map((l) => JSON.parse(l) as Json);
    const page = (await get('/v1/samplers/sim/samples?order=index&limit=1000')).json().samples as Json[];
    assert.deepEqual(jsonl, page);
    const row8 = lines[9]!.split(',');
    assert.deepEqual([row8[0], row8[2], row8[5]], ['8', page[8]!.window.join(' '), String(page[8]!.drawn)]);
  });

  it('serves Prometheus metrics: calls by method and status, ingestion, batches, database writes, per-sampler gauges', async () => {
    const text = (await get('/metrics')).body;
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
    assert.equal(value(/^recency_sampler_grpc_requests_total\{method="ReportPredictions",code="OK"\} (\d+)/m), STEPS * 2);
    assert.equal(value(/^recency_sampler_grpc_request_duration_seconds_count\{method="NextBatch",code="OK"\} (\d+)/m), STEPS * 2);
    assert.equal(value(/^recency_sampler_predictions_ingested_total\{sampler="sim"\} (\d+)/m), STEPS * 20);
    assert.equal(value(/^recency_sampler_reports_ingested_total\{sampler="sim"\} (\d+)/m), STEPS * 2);
    assert.equal(value(/^recency_sampler_batches_served_total\{sampler="sim"\} (\d+)/m), STEPS);
    assert.ok(value(/^recency_sampler_db_write_duration_seconds_count\{operation="appendReports"\} (\d+)/m) >= STEPS * 2);
    assert.ok(Math.abs(value(/^recency_sampler_selection_pressure\{sampler="sim"\} ([\d.e+-]+)/m) - selectionPressure(1, normalizeConfig(config))) < 1e-9);
    assert.ok(value(/^recency_sampler_mean_uncertainty\{sampler="sim"\} ([\d.e+-]+)/m) > 0);
    const epoch1 = (await get('/v1/samplers/sim/epochs')).json().epochs[1].diagnostics;
    assert.equal(value(/^recency_sampler_effective_sample_size_ratio\{sampler="sim"\} ([\d.e+-]+)/m), epoch1.effectiveSampleSizeRatio);
    assert.equal(value(/^recency_sampler_uncertain_share\{sampler="sim"\} ([\d.e+-]+)/m), epoch1.uncertainShare);
    assert.equal(value(/^recency_sampler_top_decile_draw_share\{sampler="sim"\} ([\d.e+-]+)/m), epoch1.topDecileDrawShare);
  });

  it('publishes an OpenAPI document of every route', async () => {
    const doc = (await get('/openapi.json')).json();
    assert.equal(doc.openapi, '3.0.3');
    for (const path of ['/healthz', '/readyz', '/metrics', '/v1/samplers', '/v1/samplers/{name}', '/v1/samplers/{name}/epochs', '/v1/samplers/{name}/samples', '/v1/samplers/{name}/samples/{index}', '/v1/samplers/{name}/export']) {
      assert.ok(doc.paths[path]?.get, `${path} documented`);
    }
  });

  it('answers the epoch history: data set at each epoch start and the planned s_e', async () => {
    const history = (await get('/v1/samplers/sim/epochs')).json();
    assert.deepEqual(history.epochs.map((e: Json) => e.epoch), [0, 1]);
    assert.equal(history.epochs[0].neverSeen, 200, 'before any report');
    assert.equal(history.epochs[1].neverSeen, 0);
    assert.deepEqual(history.schedule.map((s: Json) => s.pressure), [0, 1, 2, 3].map((e) => selectionPressure(e, normalizeConfig(config))));
    // Whether selection does anything. Warm-up is uniform by design. Epoch 1 selects (s_1 = 21.5),
    // yet after one warm-up epoch each sample has one prediction, so every F is 0: P is uniform,
    // and the diagnostics say so.
    assert.deepEqual(history.epochs[0].diagnostics, { effectiveSampleSizeRatio: 1, uncertainShare: 1, topDecileDrawShare: 0.1, uniform: false, suspectedMislabeledShare: 0 });
    assert.equal(history.epochs[1].histogram[0], 200, 'every F is 0');
    assert.deepEqual(history.epochs[1].diagnostics, { effectiveSampleSizeRatio: 1, uncertainShare: 0, topDecileDrawShare: 0.1, uniform: true, suspectedMislabeledShare: 0 });
  });

  it('says 404 for an unknown sampler or sample and 400 for bad parameters, naming them', async () => {
    const cases: [string, number, RegExp][] = [
      ['/v1/samplers/nope', 404, /^name: no sampler named "nope"/],
      ['/v1/samplers/nope/samples?order=index', 404, /no sampler named/],
      ['/v1/samplers/sim/samples/200', 404, /^index: sampler sim has samples 0 \.\. 199, got 200/],
      ['/v1/samplers/sim/samples/-1', 400, /index/],
      ['/v1/samplers/sim/samples/abc', 400, /index/],
      ['/v1/samplers/sim/samples?order=bogus', 400, /order/],
      ['/v1/samplers/sim/samples?limit=0', 400, /limit/],
      ['/v1/samplers/sim/samples?limit=1001', 400, /limit/],
      ['/v1/samplers/sim/samples?offset=-1', 400, /offset/],
      ['/v1/samplers/sim/samples?colour=red', 400, /^querystring\/colour: is not a known parameter/],
      ['/v1/samplers/sim/export?format=xml', 400, /format/],
      ['/v1/samplers/a%2Fb', 400, /name/],
      ['/v2/nothing', 404, /not found/i],
    ];
    for (const [url, code, message] of cases) {
      const response = await get(url);
      assert.equal(response.status, code, `${url}: ${response.body}`);
      assert.match(response.json().message, message, url);
    }
  });

  it('refuses every write method and changes nothing', async () => {
    const before = (await get('/v1/samplers/sim')).json();
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      const response = await app.http.inject({ method, url: '/v1/samplers/sim' });
      assert.equal(response.statusCode, 405, method);
    }
    const after = (await get('/v1/samplers/sim')).json();
    assert.deepEqual({ ...after, lastActivity: null }, { ...before, lastActivity: null });
  });

  it('serves every route on a real port too', async () => {
    const base = `http://127.0.0.1:${app.httpPort}`;
    for (const [url, type] of [
      ['/healthz', /json/],
      ['/readyz', /json/],
      ['/metrics', /text\/plain/],
      ['/openapi.json', /json/],
      ['/v1/samplers', /json/],
      ['/v1/samplers/sim', /json/],
      ['/v1/samplers/sim/epochs', /json/],
      ['/v1/samplers/sim/samples?order=drawn&limit=5', /json/],
      ['/v1/samplers/sim/samples/3', /json/],
      ['/v1/samplers/sim/export?format=jsonl', /ndjson/],
      ['/', /html/],
      ['/dashboard/app.js', /javascript/],
      ['/dashboard/uplot.js', /javascript/],
    ] as const) {
      const response = await fetch(base + url);
      assert.equal(response.status, 200, url);
      assert.match(response.headers.get('content-type') ?? '', type, url);
      await response.arrayBuffer();
    }
    assert.equal((await fetch(`${base}/v1/samplers/nope`)).status, 404);
  });
});

describe('bearer token', () => {
  const token = 'a-long-enough-test-token';

  it('guards HTTP (but liveness, readiness and the dashboard page) and gRPC alike', async (t) => {
    const { app, client } = await startTestServer(t, undefined, { token });
    await client.createSampler('s', config);
    const status401 = async (url: string, headers: Record<string, string> = {}) =>
      (await app.http.inject({ method: 'GET', url, headers })).statusCode;
    for (const url of ['/v1/samplers', '/v1/samplers/s', '/v1/samplers/s/samples/0', '/metrics', '/openapi.json', '/v1/samplers/s/export']) {
      assert.equal(await status401(url), 401, url);
      assert.equal(await status401(url, { authorization: 'Bearer wrong-token-of-some-length' }), 401, url);
      assert.equal(await status401(url, { authorization: `Bearer ${token}` }), 200, url);
    }
    for (const url of ['/healthz', '/readyz', '/', '/dashboard/app.js']) assert.equal(await status401(url), 200, url);
    const unauthorized = (await app.http.inject({ method: 'GET', url: '/v1/samplers' }));
    assert.equal(unauthorized.headers['www-authenticate'], 'Bearer');
    // gRPC: the test client sends the token; one without it, or with another, is refused.
    assert.equal((await client.nextBatch({ sampler: 's', step: 0 })).step, 0);
    for (const other of [new SamplerClient(`127.0.0.1:${app.grpcPort}`), new SamplerClient(`127.0.0.1:${app.grpcPort}`, { token: 'another-token-entirely' })]) {
      await assert.rejects(other.listSamplers(), (e: ServiceError) => {
        assert.equal(e.code, status.UNAUTHENTICATED);
        assert.match(e.details, /^authorization: a valid bearer token is required/);
        return true;
      });
      other.close();
    }
    // The token is checked before a request is decoded: bytes that are no message at all are
    // UNAUTHENTICATED without it and INVALID_ARGUMENT (undecodable) with it.
    const Raw = grpc.makeGenericClientConstructor({}, 'raw');
    const raw = new Raw(`127.0.0.1:${app.grpcPort}`, grpc.credentials.createInsecure());
    t.after(() => raw.close());
    const garbage = (metadata: grpc.Metadata) =>
      new Promise<ServiceError | null>((resolve) =>
        raw.makeUnaryRequest('/recency_sampler.v1.SamplerService/ReportPredictions', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x0a, 0xff, 0x7f]), metadata, (e) => resolve(e)),
      );
    assert.equal((await garbage(new grpc.Metadata()))?.code, status.UNAUTHENTICATED);
    const withToken = new grpc.Metadata();
    withToken.set('authorization', `Bearer ${token}`);
    assert.equal((await garbage(withToken))?.code, status.INVALID_ARGUMENT);
  });
});
