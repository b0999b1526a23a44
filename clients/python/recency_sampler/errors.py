"""Exceptions mirroring the service's error kinds. Each carries the gRPC status code and the
server's message, which starts with the name of the offending field."""
from typing import Dict, Optional, Type

import grpc


class SamplerError(Exception):
    """Any error answered by the service or met on the way to it."""

    code: Optional[grpc.StatusCode] = None

    def __init__(self, message: str, *, method: str = "", code: Optional[grpc.StatusCode] = None):
        super().__init__(f"{method}: {message}" if method else message)
        self.details = message
        self.method = method
        if code is not None:
            self.code = code


class InvalidArgument(SamplerError, ValueError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(SamplerError, LookupError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(SamplerError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(SamplerError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Unimplemented(SamplerError, NotImplementedError):
    code = grpc.StatusCode.UNIMPLEMENTED


class Unauthenticated(SamplerError, PermissionError):
    code = grpc.StatusCode.UNAUTHENTICATED


class Unavailable(SamplerError, ConnectionError):
    """The service could not be reached, also after retrying for retry_timeout seconds."""

    code = grpc.StatusCode.UNAVAILABLE


class StorageFull(SamplerError, OSError):
    """The disk holding the service's database is full, also after retrying for retry_timeout
    seconds. Nothing was recorded: the same call succeeds once there is space."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class DeadlineExceeded(SamplerError, TimeoutError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


_BY_CODE: Dict[grpc.StatusCode, Type[SamplerError]] = {
    cls.code: cls
    for cls in (InvalidArgument, NotFound, AlreadyExists, FailedPrecondition, Unimplemented, Unauthenticated, Unavailable,
                StorageFull, DeadlineExceeded)
    if cls.code is not None
}


def from_rpc_error(error: grpc.RpcError, method: str) -> SamplerError:
    code = error.code() if hasattr(error, "code") else None
    details = (error.details() if hasattr(error, "details") else None) or str(error)
    cls = _BY_CODE.get(code, SamplerError) if code is not None else SamplerError
    return cls(details, method=method, code=code)
