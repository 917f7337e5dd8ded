from __future__ import annotations

import pytest

from tests.spec.receiver import Receiver


@pytest.fixture
def receiver():
    """A loopback webhook endpoint answering 200."""
    r = Receiver()
    yield r
    r.close()
