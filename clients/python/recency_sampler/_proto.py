"""Message classes and method paths of the recency_sampler.v1 contract, built at import time from
the serialized descriptors in sampler_v1.binpb (see gen_descriptor.py). Works with protobuf 4.21
to 7.x: no generated *_pb2 code ties the package to one protoc version."""
from importlib import resources

from google.protobuf import descriptor_pb2, descriptor_pool

try:  # protobuf >= 4.22
    from google.protobuf.message_factory import GetMessageClass as _get_message_class
except ImportError:  # older protobuf
    from google.protobuf import message_factory as _message_factory

    _factory = _message_factory.MessageFactory()

    def _get_message_class(descriptor):  # type: ignore[no-redef]
        return _factory.GetPrototype(descriptor)


PACKAGE = "recency_sampler.v1"
SERVICE = f"/{PACKAGE}.SamplerService/"

_pool = descriptor_pool.DescriptorPool()
_files = descriptor_pb2.FileDescriptorSet.FromString(
    resources.files(__package__).joinpath("sampler_v1.binpb").read_bytes()
)
for _file in _files.file:
    _pool.AddSerializedFile(_file.SerializeToString())


def _message(name: str):
    return _get_message_class(_pool.FindMessageTypeByName(f"{PACKAGE}.{name}"))


SamplerConfig = _message("SamplerConfig")
Sampler = _message("Sampler")
CreateSamplerRequest = _message("CreateSamplerRequest")
GetSamplerRequest = _message("GetSamplerRequest")
ListSamplersRequest = _message("ListSamplersRequest")
ListSamplersResponse = _message("ListSamplersResponse")
DeleteSamplerRequest = _message("DeleteSamplerRequest")
DeleteSamplerResponse = _message("DeleteSamplerResponse")
NextBatchRequest = _message("NextBatchRequest")
Batch = _message("Batch")
ReportPredictionsRequest = _message("ReportPredictionsRequest")
ReportPredictionsResponse = _message("ReportPredictionsResponse")
NextBatchesRequest = _message("NextBatchesRequest")
NextBatchesResponse = _message("NextBatchesResponse")
ReportPredictionsBulkRequest = _message("ReportPredictionsBulkRequest")
ReportPredictionsBulkResponse = _message("ReportPredictionsBulkResponse")

STRATEGY = _pool.FindEnumTypeByName(f"{PACKAGE}.Strategy")
PHASE = _pool.FindEnumTypeByName(f"{PACKAGE}.Phase")
ACTIVE_BIAS_MODE = _pool.FindEnumTypeByName(f"{PACKAGE}.ActiveBiasMode")
NOISY_LABELS = _pool.FindEnumTypeByName(f"{PACKAGE}.NoisyLabels")
