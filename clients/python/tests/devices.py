"""The devices the torch tests run on: the CPU everywhere, and CUDA where a GPU is present, for
the GPU-resident path (pinned copies, CUDA events waited on in the sender, stats reduced on the
device). Without a GPU the CUDA cases are reported as skipped, not left out."""
import pytest

try:
    import torch

    _CUDA = torch.cuda.is_available()
except ImportError:  # the stacks without torch skip these modules anyway
    _CUDA = False

needs_cuda = pytest.mark.skipif(not _CUDA, reason="no CUDA device")
DEVICES = ["cpu", pytest.param("cuda", marks=needs_cuda)]
