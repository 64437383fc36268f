"""`make bench`: every benchmark, one after the other, each in its own
interpreter; their tables as they print them, then a summary table and, as
the very last line, one JSON object with the figures the team tracks.

The sweep and the order desk run at two table sizes, to show what a query
reads does not grow with the table. ``BENCH_SCALE=quick`` shrinks those
tables (and the load) for a run of a few minutes; the default sizes load
50,000 orders into moto, which takes several minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUICK = os.environ.get("BENCH_SCALE") == "quick"
SWEEP_SIZES = (1_000, 5_000) if QUICK else (5_000, 50_000)
DESK_SIZES = (1_000, 4_000) if QUICK else (2_000, 20_000)
LOAD_ARGS = ("--buyers", "80", "--units", "20") if QUICK else ()


def run(script: str, *args: str, **env: str) -> dict[str, Any]:
    """Runs one benchmark, echoing its output; returns its last JSON line."""
    label = " ".join([script, *args, *(f"{k}={v}" for k, v in env.items())])
    print(f"\n=== {label}", flush=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    print(done.stdout, end="", flush=True)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{label} failed with exit code {done.returncode}")
    last = done.stdout.strip().splitlines()[-1]
    figures: dict[str, Any] = json.loads(last)
    print(f"=== {label}: {time.perf_counter() - started:.0f} s", flush=True)
    return figures


def main() -> None:
    placement = run("placement.py")
    payments = run("payments.py")
    cold = run("cold_start.py")
    package = run("package.py")
    openapi = run("openapi.py")
    invoice_pdf = run("invoice_pdf.py")
    sweeps = {n: run("sweep.py", BENCH_ORDERS=str(n)) for n in SWEEP_SIZES}
    desks = {n: run("desk.py", BENCH_ORDERS=str(n)) for n in DESK_SIZES}
    load = run("load.py", *LOAD_ARGS)

    biggest_sweep = sweeps[SWEEP_SIZES[-1]]
    summary: dict[str, Any] = {
        "cold_start_ratio": cold["cold_start_ratio"],
        "cold_start_worst_handler": cold["cold_start_worst_handler"],
        "import_ratio": cold["import_ratio"],
        "first_call_ratio_max": cold["first_call_ratio_max"],
        "stack_floor_ratio_max": cold["stack_floor_ratio_max"],
        "own_code_ratio_max": cold["own_code_ratio_max"],
        "package_mb": package["package_mb"],
        "round_trips_max": placement["round_trips_max"],
        "round_trips_warm_max": placement["round_trips_warm_max"],
        "placement_throughput_ratio": placement["ratio"],
        "sweep_items_read": biggest_sweep["items_read"],
        "sweep_stale": biggest_sweep["stale"],
        "sweep_items_read_by_table_size": {str(n): s["items_read"] for n, s in sweeps.items()},
        "desk_items_read_max_by_table_size": {
            str(n): d["items_read_max"] for n, d in desks.items()
        },
        "desk_page_size": desks[DESK_SIZES[-1]]["page_size"],
        "webhook_accept_p50_ms": payments["webhook_accept_moto"]["p50_ms"],
        "openapi_first_request_ms": openapi["first_openapi_request_ms"],
        "invoice_pdf_warm_p50_ms": invoice_pdf["invoice_pdf_warm_p50_ms"],
        "renderer_package_mb": invoice_pdf["renderer_without_pillow_mb"],
        "documents_package_mb": invoice_pdf["documents_package_mb"],
        "load_orders_accepted": load["orders_accepted"],
        "load_units": load["units"],
        "load_five_xx": load["five_xx"],
        "load_stock_conserved": load["stock_conserved"],
        "load_oversold": load["oversold"],
        "load_orders_accounted": load["orders_accounted"],
        "load_checkout_p50_ms": load["checkout_p50_ms"],
        "load_checkout_p95_ms": load["checkout_p95_ms"],
    }
    targets = {
        "cold_start_ratio": ("<=", 1.5),
        "package_mb": ("<", 5.0),
        "round_trips_max": ("<=", 2),
        "placement_throughput_ratio": (">=", 0.8),
    }
    print("\n=== summary")
    print(f"{'figure':36}{'value':>14}  target")
    for name, value in summary.items():
        shown = (
            ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else value
        )
        target = targets.get(name)
        mark = ""
        if target is not None:
            op, bound = target
            met = {"<=": value <= bound, "<": value < bound, ">=": value >= bound}[op]
            mark = f"{op} {bound} {'met' if met else 'MISSED'}"
        print(f"{name:36}{shown!s:>14}  {mark}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
