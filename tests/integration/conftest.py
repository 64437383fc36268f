from collections.abc import Iterator
from typing import Any

import pytest

from tests.pipeline import Pipeline, running_pipeline

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline(api: Any, table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    yield from running_pipeline(api, table, monkeypatch)
