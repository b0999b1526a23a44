import re

import pytest

from recency_sampler import SamplerClient

from .service import ServiceProcess


@pytest.fixture(scope="session")
def service(tmp_path_factory):
    process = ServiceProcess(tmp_path_factory.mktemp("service") / "sampler.db").start()
    yield process
    assert process.stop() == 0


@pytest.fixture
def client(service):
    with SamplerClient(service.target, retry_timeout=5.0) as c:
        yield c


@pytest.fixture
def name(request):
    """A sampler name unique to the test."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", request.node.name)[:100]
