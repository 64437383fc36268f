"""What the contract costs: app import (cold start), the generator's import
(build time only: `make openapi`), the first GET /openapi.json (reading the
shipped document) and serving it warm.

Each import is timed in a fresh interpreter (median of several); the build
and warm serve are timed in process through chalice.test (no network).

Prints a table, then one JSON object as the very last line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))


def import_ms(module: str) -> float:
    code = (
        "import time, os; os.environ['SHOP_TABLE_NAME']='bench'; t=time.perf_counter(); "
        f"import {module}; print((time.perf_counter()-t)*1000)"
    )
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
            ).stdout
        )
        for _ in range(RUNS)
    ]
    return statistics.median(samples)


def main() -> None:
    os.environ.setdefault("SHOP_TABLE_NAME", "bench")
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    app_import = import_ms("app")
    openapi_import = import_ms("local.openapi_document")

    from chalice.test import Client

    from app import app

    with Client(app, stage_name="dev") as client:
        started = time.perf_counter()
        first = client.http.get("/openapi.json")
        first_ms = (time.perf_counter() - started) * 1000
        warm = []
        for _ in range(20):
            started = time.perf_counter()
            client.http.get("/openapi.json")
            warm.append((time.perf_counter() - started) * 1000)
    doc = json.loads(first.body)
    figures = {
        "app_import_ms": round(app_import, 1),
        "openapi_module_import_ms": round(openapi_import, 1),
        "first_openapi_request_ms": round(first_ms, 1),
        "warm_openapi_request_ms": round(statistics.median(warm), 2),
        "document_bytes": len(first.body),
        "operations": sum(len(m) for m in doc["paths"].values()),
        "component_schemas": len(doc["components"]["schemas"]),
    }
    width = max(map(len, figures))
    print(f"{'figure':<{width}}  value")
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
