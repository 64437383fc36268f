"""bootstrap's context builds each store on first use (bootstrap._deferred)."""

from __future__ import annotations

import threading
import time

from chalicelib import bootstrap


class Catalog:
    def __init__(self) -> None:
        self.reads: list[str] = []

    def get(self, sku: str) -> str:
        self.reads.append(sku)
        return f"product {sku}"


def test_an_adapter_is_built_on_first_use_and_only_once() -> None:
    built: list[Catalog] = []

    def build() -> Catalog:
        built.append(Catalog())
        return built[-1]

    catalog = bootstrap._deferred(build)
    assert built == []

    assert catalog.get("TEA-1") == "product TEA-1"
    assert catalog.get("TEA-2") == "product TEA-2"
    assert len(built) == 1
    assert built[0].reads == ["TEA-1", "TEA-2"]


def test_threads_racing_for_a_new_adapter_share_one() -> None:
    built: list[Catalog] = []

    def slow_build() -> Catalog:
        time.sleep(0.05)  # a second thread arrives while the first builds
        built.append(Catalog())
        return built[-1]

    catalog = bootstrap._deferred(slow_build)
    start = threading.Barrier(4)

    def read() -> None:
        start.wait()
        catalog.get("TEA-1")

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(built) == 1
    assert built[0].reads == ["TEA-1"] * 4


def test_a_failed_build_is_tried_again_on_the_next_use() -> None:
    attempts: list[int] = []

    def flaky() -> Catalog:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("no endpoint yet")
        return Catalog()

    catalog = bootstrap._deferred(flaky)
    try:
        catalog.get("TEA-1")
    except ConnectionError:
        pass
    assert catalog.get("TEA-1") == "product TEA-1"
    assert len(attempts) == 2
