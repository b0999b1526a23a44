// JSON schemas of the HTTP API: they validate requests (400 naming the parameter), shape the
// responses and make up the OpenAPI document served at /openapi.json.
import { SAMPLE_ORDERS } from '../service/sampler-inspection.js';
import { EXPORT_FORMATS } from './sample-export.js';

const nullableNumber = { type: ['number', 'null'] } as const;
const integer = { type: 'integer' } as const;

export const samplerName = {
  type: 'object',
  properties: { name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' } },
  required: ['name'],
} as const;

export const sampleParams = {
  type: 'object',
  properties: { ...samplerName.properties, index: { type: 'integer', minimum: 0 } },
  required: ['name', 'index'],
} as const;

export const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    order: { type: 'string', enum: SAMPLE_ORDERS, default: 'uncertainty', description: 'uncertainty and drawn: highest first; ties by index' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
    offset: { type: 'integer', minimum: 0, default: 0 },
  },
} as const;

export const exportQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { format: { type: 'string', enum: EXPORT_FORMATS, default: 'csv' } },
} as const;

export const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

const config = {
  type: 'object',
  properties: {
    datasetSize: integer,
    numClasses: integer,
    batchSize: integer,
    epochs: integer,
    strategy: { type: 'string' },
    window: integer,
    initialPressure: { type: 'number' },
    warmupEpochs: integer,
    seed: integer,
    dropLast: { type: 'boolean' },
    activeBiasEpsilon: { type: 'number' },
    activeBiasMode: { type: 'string' },
    noisyLabels: { type: 'string', description: 'IGNORE, EXCLUDE or REFURBISH: what Recency Bias does with samples suspected mislabeled' },
  },
} as const;

const rankReports = {
  type: 'object',
  properties: { rank: integer, reports: integer, predictions: integer, lastStep: integer },
} as const;

const summaryProperties = {
  name: { type: 'string' },
  config,
  createdAt: { type: 'string', format: 'date-time' },
  stepsPerEpoch: integer,
  totalSteps: integer,
  step: { ...integer, description: 'the step last served; -1 before the first' },
  epoch: integer,
  phase: { type: 'string', enum: ['WARMUP', 'ADAPTIVE', 'SHUFFLE'] },
  selectionPressure: { ...nullableNumber, description: 's_e of the current epoch (Active Bias: max/min of its weights)' },
  batchesServed: integer,
  reportsReceived: integer,
  predictionsReceived: integer,
  reportsPerRank: { type: 'array', items: rankReports },
  meanUncertainty: { type: 'number' },
  neverSeen: { ...integer, description: 'samples without any reported prediction (F = 1)' },
  histogram: { type: 'array', items: integer, description: 'samples per tenth of F: [0, 0.1), ..., [0.9, 1]' },
  lastActivity: { type: ['string', 'null'], format: 'date-time' },
} as const;

export const samplerSummary = { type: 'object', properties: summaryProperties } as const;

export const samplerDetail = {
  type: 'object',
  properties: {
    ...summaryProperties,
    uncertaintyValues: {
      type: 'array',
      description: 'each distinct F present: how many samples have it and how often they were drawn on average',
      items: { type: 'object', properties: { uncertainty: { type: 'number' }, samples: integer, meanDrawn: { type: 'number' } } },
    },
  },
} as const;

export const epochHistory = {
  type: 'object',
  properties: {
    epochs: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          epoch: integer,
          startedAt: { type: 'string', format: 'date-time' },
          pressure: { type: 'number' },
          meanUncertainty: { type: 'number' },
          neverSeen: integer,
          histogram: { type: 'array', items: integer },
          diagnostics: {
            type: 'object',
            description: 'whether selection does anything this epoch (absent for epochs recorded by older releases)',
            properties: {
              effectiveSampleSizeRatio: { type: 'number', description: 'effective sample size of P relative to N: (sum P)^2 / sum P^2 / N; 1 = uniform' },
              uncertainShare: { type: 'number', description: 'share of samples with F > 0' },
              topDecileDrawShare: { type: 'number', description: 'share of draws expected to go to the tenth of samples with the largest P; 0.1 = uniform' },
              uniform: { type: 'boolean', description: 'an adaptive epoch whose P is uniform: no sample is more uncertain than another' },
              suspectedMislabeledShare: {
                type: 'number',
                description: 'share of samples whose last q predictions agree with each other but not with their dataset label (0 unless reports carry dataset labels)',
              },
            },
          },
        },
      },
    },
    schedule: { type: 'array', items: { type: 'object', properties: { epoch: integer, pressure: { type: 'number' } } } },
  },
} as const;

export const sampleView = {
  type: 'object',
  properties: {
    index: integer,
    window: { type: 'array', items: integer, description: 'predicted labels, oldest first' },
    valid: integer,
    uncertainty: { type: 'number' },
    probability: { ...nullableNumber, description: 'P(i) for one draw of the current epoch' },
    drawn: { ...integer, description: 'served global batches that held the sample (saturates at 65535)' },
    lastReportedStep: { type: ['integer', 'null'] },
    latestLoss: nullableNumber,
    trueClassProb: {
      type: ['object', 'null'],
      properties: { reports: integer, mean: { type: 'number' }, stdHat: { type: 'number' } },
    },
  },
} as const;

export const samplePage = {
  type: 'object',
  properties: {
    order: { type: 'string' },
    offset: integer,
    limit: integer,
    total: integer,
    samples: { type: 'array', items: sampleView },
  },
} as const;

export const errorBody = {
  type: 'object',
  properties: { statusCode: integer, error: { type: 'string' }, message: { type: 'string' } },
} as const;
