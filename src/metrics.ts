// Prometheus metrics (prom-client), one registry per app so that several apps in one process
// (tests) never share counters. Adapters and storage report through the small hooks below.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GaugeValues, SamplerService } from './service/sampler-service.js';

export interface Metrics {
  readonly registry: Registry;
  /** A finished gRPC call: its method, status name and duration. */
  rpc(method: string, code: string, seconds: number): void;
  reports(sampler: string, reports: number, predictions: number): void;
  batchServed(sampler: string): void;
  dbWrite(operation: string, seconds: number): void;
  /** Gauges read from the service at each scrape. */
  watch(service: SamplerService): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'recency_sampler_' });
  const samplers = samplerCounters(registry);
  const dbWrites = new Histogram({
    name: 'recency_sampler_db_write_duration_seconds',
    help: 'SQLite write transactions by operation',
    labelNames: ['operation'],
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
    registers: [registry],
  });
  return {
    registry,
    rpc: rpcMetrics(registry),
    reports: (sampler, count, predictionCount) => {
      const children = samplers(sampler);
      children.reports.inc(count);
      children.predictions.inc(predictionCount);
    },
    batchServed: (sampler) => samplers(sampler).batches.inc(),
    dbWrite: (operation, seconds) => dbWrites.observe({ operation }, seconds),
    watch: (service) => watchSamplers(registry, service),
  };
}

/** Calls and their latency by (method, status); label children are kept, as this runs on every RPC. */
function rpcMetrics(registry: Registry): Metrics['rpc'] {
  const requests = new Counter({
    name: 'recency_sampler_grpc_requests_total',
    help: 'gRPC calls by method and status',
    labelNames: ['method', 'code'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'recency_sampler_grpc_request_duration_seconds',
    help: 'gRPC call handling time by method and status',
    labelNames: ['method', 'code'],
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5],
    registers: [registry],
  });
  const children = new Map<string, { count: Counter.Internal; time: Histogram.Internal<string> }>();
  return (method, code, seconds) => {
    const key = `${method} ${code}`;
    let child = children.get(key);
    if (!child) {
      child = { count: requests.labels(method, code), time: latency.labels(method, code) };
      children.set(key, child);
    }
    child.count.inc();
    child.time.observe(seconds);
  };
}

/** Per-sampler counters of reports, predictions and first-served batches, by the sampler's label children. */
function samplerCounters(registry: Registry) {
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['sampler'], registers: [registry] });
  const reports = counter('recency_sampler_reports_ingested_total', 'Accepted reports (duplicates not counted)');
  const predictions = counter('recency_sampler_predictions_ingested_total', 'Predictions in accepted reports');
  const batches = counter('recency_sampler_batches_served_total', 'Global batches drawn and served for the first time');
  const children = new Map<string, { reports: Counter.Internal; predictions: Counter.Internal; batches: Counter.Internal }>();
  return (sampler: string) => {
    let child = children.get(sampler);
    if (!child) {
      child = { reports: reports.labels(sampler), predictions: predictions.labels(sampler), batches: batches.labels(sampler) };
      children.set(sampler, child);
    }
    return child;
  };
}

/** Gauges read from the service at each scrape. */
function watchSamplers(registry: Registry, service: SamplerService): void {
  const gauge = (name: string, help: string, read: (s: GaugeValues) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['sampler'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of service.gaugeValues()) {
          const value = read(s);
          if (value !== null) this.set({ sampler: s.name }, value);
        }
      },
    });
  gauge('recency_sampler_selection_pressure', 'Selection pressure of the current epoch (s_e for Recency Bias)', (s) => s.selectionPressure);
  gauge('recency_sampler_mean_uncertainty', 'Mean predictive uncertainty F over the data set', (s) => s.meanUncertainty);
  gauge('recency_sampler_epoch', 'Epoch of the step last served', (s) => s.epoch);
  gauge('recency_sampler_samples_never_seen', 'Samples without any reported prediction', (s) => s.neverSeen);
  gauge(
    'recency_sampler_effective_sample_size_ratio',
    'Effective sample size of the current epoch\'s P relative to N, (sum P)^2 / sum P^2 / N: 1 = uniform, selection does nothing',
    (s) => s.diagnostics?.effectiveSampleSizeRatio ?? null,
  );
  gauge('recency_sampler_uncertain_share', 'Share of samples with F > 0 at the current epoch\'s start', (s) => s.diagnostics?.uncertainShare ?? null);
  gauge(
    'recency_sampler_top_decile_draw_share',
    'Share of the current epoch\'s draws expected to go to the tenth of samples with the largest P (0.1 = uniform)',
    (s) => s.diagnostics?.topDecileDrawShare ?? null,
  );
  gauge(
    'recency_sampler_suspected_mislabeled_share',
    'Share of samples suspected mislabeled at the current epoch\'s start: unanimous recent predictions that disagree with the dataset label',
    (s) => s.diagnostics?.suspectedMislabeledShare ?? null,
  );
}
