// Original file: proto/recency_sampler/v1/sampler.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Batch as _recency_sampler_v1_Batch, Batch__Output as _recency_sampler_v1_Batch__Output } from '../../recency_sampler/v1/Batch.js';
import type { CreateSamplerRequest as _recency_sampler_v1_CreateSamplerRequest, CreateSamplerRequest__Output as _recency_sampler_v1_CreateSamplerRequest__Output } from '../../recency_sampler/v1/CreateSamplerRequest.js';
import type { DeleteSamplerRequest as _recency_sampler_v1_DeleteSamplerRequest, DeleteSamplerRequest__Output as _recency_sampler_v1_DeleteSamplerRequest__Output } from '../../recency_sampler/v1/DeleteSamplerRequest.js';
import type { DeleteSamplerResponse as _recency_sampler_v1_DeleteSamplerResponse, DeleteSamplerResponse__Output as _recency_sampler_v1_DeleteSamplerResponse__Output } from '../../recency_sampler/v1/DeleteSamplerResponse.js';
import type { GetSamplerRequest as _recency_sampler_v1_GetSamplerRequest, GetSamplerRequest__Output as _recency_sampler_v1_GetSamplerRequest__Output } from '../../recency_sampler/v1/GetSamplerRequest.js';
import type { ListSamplersRequest as _recency_sampler_v1_ListSamplersRequest, ListSamplersRequest__Output as _recency_sampler_v1_ListSamplersRequest__Output } from '../../recency_sampler/v1/ListSamplersRequest.js';
import type { ListSamplersResponse as _recency_sampler_v1_ListSamplersResponse, ListSamplersResponse__Output as _recency_sampler_v1_ListSamplersResponse__Output } from '../../recency_sampler/v1/ListSamplersResponse.js';
import type { NextBatchRequest as _recency_sampler_v1_NextBatchRequest, NextBatchRequest__Output as _recency_sampler_v1_NextBatchRequest__Output } from '../../recency_sampler/v1/NextBatchRequest.js';
import type { NextBatchesRequest as _recency_sampler_v1_NextBatchesRequest, NextBatchesRequest__Output as _recency_sampler_v1_NextBatchesRequest__Output } from '../../recency_sampler/v1/NextBatchesRequest.js';
import type { NextBatchesResponse as _recency_sampler_v1_NextBatchesResponse, NextBatchesResponse__Output as _recency_sampler_v1_NextBatchesResponse__Output } from '../../recency_sampler/v1/NextBatchesResponse.js';
import type { ReportPredictionsBulkRequest as _recency_sampler_v1_ReportPredictionsBulkRequest, ReportPredictionsBulkRequest__Output as _recency_sampler_v1_ReportPredictionsBulkRequest__Output } from '../../recency_sampler/v1/ReportPredictionsBulkRequest.js';
import type { ReportPredictionsBulkResponse as _recency_sampler_v1_ReportPredictionsBulkResponse, ReportPredictionsBulkResponse__Output as _recency_sampler_v1_ReportPredictionsBulkResponse__Output } from '../../recency_sampler/v1/ReportPredictionsBulkResponse.js';
import type { ReportPredictionsRequest as _recency_sampler_v1_ReportPredictionsRequest, ReportPredictionsRequest__Output as _recency_sampler_v1_ReportPredictionsRequest__Output } from '../../recency_sampler/v1/ReportPredictionsRequest.js';
import type { ReportPredictionsResponse as _recency_sampler_v1_ReportPredictionsResponse, ReportPredictionsResponse__Output as _recency_sampler_v1_ReportPredictionsResponse__Output } from '../../recency_sampler/v1/ReportPredictionsResponse.js';
import type { Sampler as _recency_sampler_v1_Sampler, Sampler__Output as _recency_sampler_v1_Sampler__Output } from '../../recency_sampler/v1/Sampler.js';

export interface SamplerServiceClient extends grpc.Client {
  CreateSampler(argument: _recency_sampler_v1_CreateSamplerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  CreateSampler(argument: _recency_sampler_v1_CreateSamplerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  CreateSampler(argument: _recency_sampler_v1_CreateSamplerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  CreateSampler(argument: _recency_sampler_v1_CreateSamplerRequest, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  createSampler(argument: _recency_sampler_v1_CreateSamplerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  createSampler(argument: _recency_sampler_v1_CreateSamplerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  createSampler(argument: _recency_sampler_v1_CreateSamplerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  createSampler(argument: _recency_sampler_v1_CreateSamplerRequest, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  
  DeleteSampler(argument: _recency_sampler_v1_DeleteSamplerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_DeleteSamplerResponse__Output>): grpc.ClientUnaryCall;
  DeleteSampler(argument: _recency_sampler_v1_DeleteSamplerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_DeleteSamplerResponse__Output>): grpc.ClientUnaryCall;
  DeleteSampler(argument: _recency_sampler_v1_DeleteSamplerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_DeleteSamplerResponse__Output>): grpc.ClientUnaryCall;
  DeleteSampler(argument: _recency_sampler_v1_DeleteSamplerRequest, callback: grpc.requestCallback<_recency_sampler_v1_DeleteSamplerResponse__Output>): grpc.ClientUnaryCall;
  deleteSampler(argument: _recency_sampler_v1_DeleteSamplerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_DeleteSamplerResponse__Output>): grpc.ClientUnaryCall;
  deleteSampler(argument: _recency_sampler_v1_DeleteSamplerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_DeleteSamplerResponse__Output>): grpc.ClientUnaryCall;
  deleteSampler(argument: _recency_sampler_v1_DeleteSamplerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_DeleteSamplerResponse__Output>): grpc.ClientUnaryCall;
  deleteSampler(argument: _recency_sampler_v1_DeleteSamplerRequest, callback: grpc.requestCallback<_recency_sampler_v1_DeleteSamplerResponse__Output>): grpc.ClientUnaryCall;
  
  GetSampler(argument: _recency_sampler_v1_GetSamplerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  GetSampler(argument: _recency_sampler_v1_GetSamplerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  GetSampler(argument: _recency_sampler_v1_GetSamplerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  GetSampler(argument: _recency_sampler_v1_GetSamplerRequest, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  getSampler(argument: _recency_sampler_v1_GetSamplerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  getSampler(argument: _recency_sampler_v1_GetSamplerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  getSampler(argument: _recency_sampler_v1_GetSamplerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  getSampler(argument: _recency_sampler_v1_GetSamplerRequest, callback: grpc.requestCallback<_recency_sampler_v1_Sampler__Output>): grpc.ClientUnaryCall;
  
  ListSamplers(argument: _recency_sampler_v1_ListSamplersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_ListSamplersResponse__Output>): grpc.ClientUnaryCall;
  ListSamplers(argument: _recency_sampler_v1_ListSamplersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_ListSamplersResponse__Output>): grpc.ClientUnaryCall;
  ListSamplers(argument: _recency_sampler_v1_ListSamplersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_ListSamplersResponse__Output>): grpc.ClientUnaryCall;
  ListSamplers(argument: _recency_sampler_v1_ListSamplersRequest, callback: grpc.requestCallback<_recency_sampler_v1_ListSamplersResponse__Output>): grpc.ClientUnaryCall;
  listSamplers(argument: _recency_sampler_v1_ListSamplersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_ListSamplersResponse__Output>): grpc.ClientUnaryCall;
  listSamplers(argument: _recency_sampler_v1_ListSamplersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_ListSamplersResponse__Output>): grpc.ClientUnaryCall;
  listSamplers(argument: _recency_sampler_v1_ListSamplersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_ListSamplersResponse__Output>): grpc.ClientUnaryCall;
  listSamplers(argument: _recency_sampler_v1_ListSamplersRequest, callback: grpc.requestCallback<_recency_sampler_v1_ListSamplersResponse__Output>): grpc.ClientUnaryCall;
  
  NextBatch(argument: _recency_sampler_v1_NextBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_Batch__Output>): grpc.ClientUnaryCall;
  NextBatch(argument: _recency_sampler_v1_NextBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_Batch__Output>): grpc.ClientUnaryCall;
  NextBatch(argument: _recency_sampler_v1_NextBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_Batch__Output>): grpc.ClientUnaryCall;
  NextBatch(argument: _recency_sampler_v1_NextBatchRequest, callback: grpc.requestCallback<_recency_sampler_v1_Batch__Output>): grpc.ClientUnaryCall;
  nextBatch(argument: _recency_sampler_v1_NextBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_Batch__Output>): grpc.ClientUnaryCall;
  nextBatch(argument: _recency_sampler_v1_NextBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_Batch__Output>): grpc.ClientUnaryCall;
  nextBatch(argument: _recency_sampler_v1_NextBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_Batch__Output>): grpc.ClientUnaryCall;
  nextBatch(argument: _recency_sampler_v1_NextBatchRequest, callback: grpc.requestCallback<_recency_sampler_v1_Batch__Output>): grpc.ClientUnaryCall;
  
  NextBatches(argument: _recency_sampler_v1_NextBatchesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_NextBatchesResponse__Output>): grpc.ClientUnaryCall;
  NextBatches(argument: _recency_sampler_v1_NextBatchesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_NextBatchesResponse__Output>): grpc.ClientUnaryCall;
  NextBatches(argument: _recency_sampler_v1_NextBatchesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_NextBatchesResponse__Output>): grpc.ClientUnaryCall;
  NextBatches(argument: _recency_sampler_v1_NextBatchesRequest, callback: grpc.requestCallback<_recency_sampler_v1_NextBatchesResponse__Output>): grpc.ClientUnaryCall;
  nextBatches(argument: _recency_sampler_v1_NextBatchesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_NextBatchesResponse__Output>): grpc.ClientUnaryCall;
  nextBatches(argument: _recency_sampler_v1_NextBatchesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_NextBatchesResponse__Output>): grpc.ClientUnaryCall;
  nextBatches(argument: _recency_sampler_v1_NextBatchesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_NextBatchesResponse__Output>): grpc.ClientUnaryCall;
  nextBatches(argument: _recency_sampler_v1_NextBatchesRequest, callback: grpc.requestCallback<_recency_sampler_v1_NextBatchesResponse__Output>): grpc.ClientUnaryCall;
  
  ReportPredictions(argument: _recency_sampler_v1_ReportPredictionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsResponse__Output>): grpc.ClientUnaryCall;
  ReportPredictions(argument: _recency_sampler_v1_ReportPredictionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsResponse__Output>): grpc.ClientUnaryCall;
  ReportPredictions(argument: _recency_sampler_v1_ReportPredictionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsResponse__Output>): grpc.ClientUnaryCall;
  ReportPredictions(argument: _recency_sampler_v1_ReportPredictionsRequest, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsResponse__Output>): grpc.ClientUnaryCall;
  reportPredictions(argument: _recency_sampler_v1_ReportPredictionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsResponse__Output>): grpc.ClientUnaryCall;
  reportPredictions(argument: _recency_sampler_v1_ReportPredictionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsResponse__Output>): grpc.ClientUnaryCall;
  reportPredictions(argument: _recency_sampler_v1_ReportPredictionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsResponse__Output>): grpc.ClientUnaryCall;
  reportPredictions(argument: _recency_sampler_v1_ReportPredictionsRequest, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsResponse__Output>): grpc.ClientUnaryCall;
  
  ReportPredictionsBulk(argument: _recency_sampler_v1_ReportPredictionsBulkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsBulkResponse__Output>): grpc.ClientUnaryCall;
  ReportPredictionsBulk(argument: _recency_sampler_v1_ReportPredictionsBulkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsBulkResponse__Output>): grpc.ClientUnaryCall;
  ReportPredictionsBulk(argument: _recency_sampler_v1_ReportPredictionsBulkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsBulkResponse__Output>): grpc.ClientUnaryCall;
  ReportPredictionsBulk(argument: _recency_sampler_v1_ReportPredictionsBulkRequest, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsBulkResponse__Output>): grpc.ClientUnaryCall;
  reportPredictionsBulk(argument: _recency_sampler_v1_ReportPredictionsBulkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsBulkResponse__Output>): grpc.ClientUnaryCall;
  reportPredictionsBulk(argument: _recency_sampler_v1_ReportPredictionsBulkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsBulkResponse__Output>): grpc.ClientUnaryCall;
  reportPredictionsBulk(argument: _recency_sampler_v1_ReportPredictionsBulkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsBulkResponse__Output>): grpc.ClientUnaryCall;
  reportPredictionsBulk(argument: _recency_sampler_v1_ReportPredictionsBulkRequest, callback: grpc.requestCallback<_recency_sampler_v1_ReportPredictionsBulkResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface SamplerServiceHandlers extends grpc.UntypedServiceImplementation {
  CreateSampler: grpc.handleUnaryCall<_recency_sampler_v1_CreateSamplerRequest__Output, _recency_sampler_v1_Sampler>;
  
  DeleteSampler: grpc.handleUnaryCall<_recency_sampler_v1_DeleteSamplerRequest__Output, _recency_sampler_v1_DeleteSamplerResponse>;
  
  GetSampler: grpc.handleUnaryCall<_recency_sampler_v1_GetSamplerRequest__Output, _recency_sampler_v1_Sampler>;
  
  ListSamplers: grpc.handleUnaryCall<_recency_sampler_v1_ListSamplersRequest__Output, _recency_sampler_v1_ListSamplersResponse>;
  
  NextBatch: grpc.handleUnaryCall<_recency_sampler_v1_NextBatchRequest__Output, _recency_sampler_v1_Batch>;
  
  NextBatches: grpc.handleUnaryCall<_recency_sampler_v1_NextBatchesRequest__Output, _recency_sampler_v1_NextBatchesResponse>;
  
  ReportPredictions: grpc.handleUnaryCall<_recency_sampler_v1_ReportPredictionsRequest__Output, _recency_sampler_v1_ReportPredictionsResponse>;
  
  ReportPredictionsBulk: grpc.handleUnaryCall<_recency_sampler_v1_ReportPredictionsBulkRequest__Output, _recency_sampler_v1_ReportPredictionsBulkResponse>;
  
}

export interface SamplerServiceDefinition extends grpc.ServiceDefinition {
  CreateSampler: MethodDefinition<_recency_sampler_v1_CreateSamplerRequest, _recency_sampler_v1_Sampler, _recency_sampler_v1_CreateSamplerRequest__Output, _recency_sampler_v1_Sampler__Output>
  DeleteSampler: MethodDefinition<_recency_sampler_v1_DeleteSamplerRequest, _recency_sampler_v1_DeleteSamplerResponse, _recency_sampler_v1_DeleteSamplerRequest__Output, _recency_sampler_v1_DeleteSamplerResponse__Output>
  GetSampler: MethodDefinition<_recency_sampler_v1_GetSamplerRequest, _recency_sampler_v1_Sampler, _recency_sampler_v1_GetSamplerRequest__Output, _recency_sampler_v1_Sampler__Output>
  ListSamplers: MethodDefinition<_recency_sampler_v1_ListSamplersRequest, _recency_sampler_v1_ListSamplersResponse, _recency_sampler_v1_ListSamplersRequest__Output, _recency_sampler_v1_ListSamplersResponse__Output>
  NextBatch: MethodDefinition<_recency_sampler_v1_NextBatchRequest, _recency_sampler_v1_Batch, _recency_sampler_v1_NextBatchRequest__Output, _recency_sampler_v1_Batch__Output>
  NextBatches: MethodDefinition<_recency_sampler_v1_NextBatchesRequest, _recency_sampler_v1_NextBatchesResponse, _recency_sampler_v1_NextBatchesRequest__Output, _recency_sampler_v1_NextBatchesResponse__Output>
  ReportPredictions: MethodDefinition<_recency_sampler_v1_ReportPredictionsRequest, _recency_sampler_v1_ReportPredictionsResponse, _recency_sampler_v1_ReportPredictionsRequest__Output, _recency_sampler_v1_ReportPredictionsResponse__Output>
  ReportPredictionsBulk: MethodDefinition<_recency_sampler_v1_ReportPredictionsBulkRequest, _recency_sampler_v1_ReportPredictionsBulkResponse, _recency_sampler_v1_ReportPredictionsBulkRequest__Output, _recency_sampler_v1_ReportPredictionsBulkResponse__Output>
}
