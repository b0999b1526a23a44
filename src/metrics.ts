// Prometheus metrics (prom-client), one registry per app so that several apps in one process
// (tests) never share counters. Adapters and storage report through the small hooks below.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SamplerService } from './service/sampler-service.js';
import type { Storage } from './storage/storage.js';

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
  const reports = new Counter({
    name: 'recency_sampler_reports_ingested_total',
    help: 'Accepted reports (duplicates not counted)',
    labelNames: ['sampler'],
    registers: [registry],
  });
  const predictions = new Counter({
    name: 'recency_sampler_predictions_ingested_total',
    help: 'Predictions in accepted reports',
    labelNames: ['sampler'],
    registers: [registry],
  });
  const batches = new Counter({
    name: 'recency_sampler_batches_served_total',
    help: 'Global batches drawn and served for the first time',
    labelNames: ['sampler'],
    registers: [registry],
  });
  const dbWrites = new Histogram({
    name: 'recency_sampler_db_write_duration_seconds',
    help: 'SQLite write transactions by operation',
    labelNames: ['operation'],
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
    registers: [registry],
  });
  // Label children per (method, code), so a call does not hash its labels twice (it runs on every RPC).
  const rpcChildren = new Map<string, { count: Counter.Internal; time: Histogram.Internal<string> }>();
  const perSampler = new Map<string, { reports: Counter.Internal; predictions: Counter.Internal; batches: Counter.Internal }>();
  const samplerChildren = (sampler: string) => {
    let children = perSampler.get(sampler);
    if (!children) {
      children = { reports: reports.labels(sampler), predictions: predictions.labels(sampler), batches: batches.labels(sampler) };
      perSampler.set(sampler, children);
    }
    return children;
  };
  return {
    registry,
    rpc: (method, code, seconds) => {
      const key = `${method} ${code}`;
      let children = rpcChildren.get(key);
      if (!children) {
        children = { count: requests.labels(method, code), time: latency.labels(method, code) };
        rpcChildren.set(key, children);
      }
      children.count.inc();
      children.time.observe(seconds);
    },
    reports: (sampler, count, predictionCount) => {
      const children = samplerChildren(sampler);
      children.reports.inc(count);
      children.predictions.inc(predictionCount);
    },
    batchServed: (sampler) => samplerChildren(sampler).batches.inc(),
    dbWrite: (operation, seconds) => dbWrites.observe({ operation }, seconds),
    watch: (service) => {
      const gauge = (name: string, help: string, read: (s: ReturnType<SamplerService['gaugeValues']>[number]) => number | null) =>
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
    },
  };
}

const WRITES = ['insertBatches', 'appendReports', 'recordFreeze', 'writeSnapshot', 'recordEpochStats', 'insertSampler', 'deleteSampler'] as const;

/** The same storage with every write timed. */
export function timedStorage(storage: Storage, observe: (operation: string, seconds: number) => void): Storage {
  const timed: Partial<Storage> = {};
  for (const name of WRITES) {
    const write = storage[name].bind(storage) as (...args: unknown[]) => unknown;
    (timed as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const started = performance.now();
      try {
        return write(...args);
      } finally {
        observe(name, (performance.now() - started) / 1000);
      }
    };
  }
  return new Proxy(storage, {
    get: (target, key, receiver) => (key in timed ? timed[key as keyof Storage] : Reflect.get(target, key, receiver)),
  });
}
