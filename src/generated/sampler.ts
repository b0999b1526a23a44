import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Batch as _recency_sampler_v1_Batch, Batch__Output as _recency_sampler_v1_Batch__Output } from './recency_sampler/v1/Batch.js';
import type { CreateSamplerRequest as _recency_sampler_v1_CreateSamplerRequest, CreateSamplerRequest__Output as _recency_sampler_v1_CreateSamplerRequest__Output } from './recency_sampler/v1/CreateSamplerRequest.js';
import type { DeleteSamplerRequest as _recency_sampler_v1_DeleteSamplerRequest, DeleteSamplerRequest__Output as _recency_sampler_v1_DeleteSamplerRequest__Output } from './recency_sampler/v1/DeleteSamplerRequest.js';
import type { DeleteSamplerResponse as _recency_sampler_v1_DeleteSamplerResponse, DeleteSamplerResponse__Output as _recency_sampler_v1_DeleteSamplerResponse__Output } from './recency_sampler/v1/DeleteSamplerResponse.js';
import type { EpochDiagnostics as _recency_sampler_v1_EpochDiagnostics, EpochDiagnostics__Output as _recency_sampler_v1_EpochDiagnostics__Output } from './recency_sampler/v1/EpochDiagnostics.js';
import type { GetSamplerRequest as _recency_sampler_v1_GetSamplerRequest, GetSamplerRequest__Output as _recency_sampler_v1_GetSamplerRequest__Output } from './recency_sampler/v1/GetSamplerRequest.js';
import type { ListSamplersRequest as _recency_sampler_v1_ListSamplersRequest, ListSamplersRequest__Output as _recency_sampler_v1_ListSamplersRequest__Output } from './recency_sampler/v1/ListSamplersRequest.js';
import type { ListSamplersResponse as _recency_sampler_v1_ListSamplersResponse, ListSamplersResponse__Output as _recency_sampler_v1_ListSamplersResponse__Output } from './recency_sampler/v1/ListSamplersResponse.js';
import type { NextBatchRequest as _recency_sampler_v1_NextBatchRequest, NextBatchRequest__Output as _recency_sampler_v1_NextBatchRequest__Output } from './recency_sampler/v1/NextBatchRequest.js';
import type { NextBatchesRequest as _recency_sampler_v1_NextBatchesRequest, NextBatchesRequest__Output as _recency_sampler_v1_NextBatchesRequest__Output } from './recency_sampler/v1/NextBatchesRequest.js';
import type { NextBatchesResponse as _recency_sampler_v1_NextBatchesResponse, NextBatchesResponse__Output as _recency_sampler_v1_NextBatchesResponse__Output } from './recency_sampler/v1/NextBatchesResponse.js';
import type { ReportPredictionsBulkRequest as _recency_sampler_v1_ReportPredictionsBulkRequest, ReportPredictionsBulkRequest__Output as _recency_sampler_v1_ReportPredictionsBulkRequest__Output } from './recency_sampler/v1/ReportPredictionsBulkRequest.js';
import type { ReportPredictionsBulkResponse as _recency_sampler_v1_ReportPredictionsBulkResponse, ReportPredictionsBulkResponse__Output as _recency_sampler_v1_ReportPredictionsBulkResponse__Output } from './recency_sampler/v1/ReportPredictionsBulkResponse.js';
import type { ReportPredictionsRequest as _recency_sampler_v1_ReportPredictionsRequest, ReportPredictionsRequest__Output as _recency_sampler_v1_ReportPredictionsRequest__Output } from './recency_sampler/v1/ReportPredictionsRequest.js';
import type { ReportPredictionsResponse as _recency_sampler_v1_ReportPredictionsResponse, ReportPredictionsResponse__Output as _recency_sampler_v1_ReportPredictionsResponse__Output } from './recency_sampler/v1/ReportPredictionsResponse.js';
import type { Sampler as _recency_sampler_v1_Sampler, Sampler__Output as _recency_sampler_v1_Sampler__Output } from './recency_sampler/v1/Sampler.js';
import type { SamplerConfig as _recency_sampler_v1_SamplerConfig, SamplerConfig__Output as _recency_sampler_v1_SamplerConfig__Output } from './recency_sampler/v1/SamplerConfig.js';
import type { SamplerServiceClient as _recency_sampler_v1_SamplerServiceClient, SamplerServiceDefinition as _recency_sampler_v1_SamplerServiceDefinition } from './recency_sampler/v1/SamplerService.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  recency_sampler: {
    v1: {
      ActiveBiasMode: EnumTypeDefinition
      Batch: MessageTypeDefinition<_recency_sampler_v1_Batch, _recency_sampler_v1_Batch__Output>
      CreateSamplerRequest: MessageTypeDefinition<_recency_sampler_v1_CreateSamplerRequest, _recency_sampler_v1_CreateSamplerRequest__Output>
      DeleteSamplerRequest: MessageTypeDefinition<_recency_sampler_v1_DeleteSamplerRequest, _recency_sampler_v1_DeleteSamplerRequest__Output>
      DeleteSamplerResponse: MessageTypeDefinition<_recency_sampler_v1_DeleteSamplerResponse, _recency_sampler_v1_DeleteSamplerResponse__Output>
      EpochDiagnostics: MessageTypeDefinition<_recency_sampler_v1_EpochDiagnostics, _recency_sampler_v1_EpochDiagnostics__Output>
      GetSamplerRequest: MessageTypeDefinition<_recency_sampler_v1_GetSamplerRequest, _recency_sampler_v1_GetSamplerRequest__Output>
      ListSamplersRequest: MessageTypeDefinition<_recency_sampler_v1_ListSamplersRequest, _recency_sampler_v1_ListSamplersRequest__Output>
      ListSamplersResponse: MessageTypeDefinition<_recency_sampler_v1_ListSamplersResponse, _recency_sampler_v1_ListSamplersResponse__Output>
      NextBatchRequest: MessageTypeDefinition<_recency_sampler_v1_NextBatchRequest, _recency_sampler_v1_NextBatchRequest__Output>
      NextBatchesRequest: MessageTypeDefinition<_recency_sampler_v1_NextBatchesRequest, _recency_sampler_v1_NextBatchesRequest__Output>
      NextBatchesResponse: MessageTypeDefinition<_recency_sampler_v1_NextBatchesResponse, _recency_sampler_v1_NextBatchesResponse__Output>
      NoisyLabels: EnumTypeDefinition
      Phase: EnumTypeDefinition
      ReportPredictionsBulkRequest: MessageTypeDefinition<_recency_sampler_v1_ReportPredictionsBulkRequest, _recency_sampler_v1_ReportPredictionsBulkRequest__Output>
      ReportPredictionsBulkResponse: MessageTypeDefinition<_recency_sampler_v1_ReportPredictionsBulkResponse, _recency_sampler_v1_ReportPredictionsBulkResponse__Output>
      ReportPredictionsRequest: MessageTypeDefinition<_recency_sampler_v1_ReportPredictionsRequest, _recency_sampler_v1_ReportPredictionsRequest__Output>
      ReportPredictionsResponse: MessageTypeDefinition<_recency_sampler_v1_ReportPredictionsResponse, _recency_sampler_v1_ReportPredictionsResponse__Output>
      Sampler: MessageTypeDefinition<_recency_sampler_v1_Sampler, _recency_sampler_v1_Sampler__Output>
      SamplerConfig: MessageTypeDefinition<_recency_sampler_v1_SamplerConfig, _recency_sampler_v1_SamplerConfig__Output>
      SamplerService: SubtypeConstructor<typeof grpc.Client, _recency_sampler_v1_SamplerServiceClient> & { service: _recency_sampler_v1_SamplerServiceDefinition }
      Strategy: EnumTypeDefinition
    }
  }
}

