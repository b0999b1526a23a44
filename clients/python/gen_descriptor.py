"""Writes recency_sampler/sampler_v1.binpb, the serialized descriptors of proto/, the one way it is
made (needs grpcio-tools). With --check, fails if the committed file differs from fresh output."""
import pathlib
import sys
import tempfile

from grpc_tools import protoc

HERE = pathlib.Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"
TARGET = HERE / "recency_sampler" / "sampler_v1.binpb"


def generate(out: pathlib.Path) -> None:
    code = protoc.main(["protoc", f"-I{PROTO_ROOT}", f"--descriptor_set_out={out}", "recency_sampler/v1/sampler.proto"])
    if code != 0:
        raise SystemExit(f"protoc failed with {code}")


if __name__ == "__main__":
    if "--check" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = pathlib.Path(tmp) / "fresh.binpb"
            generate(fresh)
            if fresh.read_bytes() != TARGET.read_bytes():
                raise SystemExit(f"{TARGET} is out of date with proto/: run python {pathlib.Path(__file__).name}")
        print("descriptor matches proto/")
    else:
        generate(TARGET)
