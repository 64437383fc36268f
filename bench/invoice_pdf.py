"""The invoice PDF: warm time to render one (fpdf2, DejaVu Sans embedded and
subset), the PDF's size, and what the renderer's dependencies would add,
zipped, to a Lambda package (measured from the installed wheels: fpdf2,
fontTools, defusedxml and Pillow, bytecode caches left out) against the 5 MB
budget the API's package already fills. The same for a business buyer's
Factur-X PDF (PDF/A-3 with the XML embedded: invoice_pdf/facturx_pdf.py) and
what factur-x and its dependencies add to the renderer's package.

Beside it, the two packages as they ship: the documents function's
(infrastructure/documents_package.py builds it as the synth does: its
requirements installed for Lambda's platform, Pillow left out, invoice_pdf/
and chalicelib/), zipped; and the API's (bench/package.py's deployment.zip).
The first builds the installed requirements once into build/own-functions/
(pip, from the package index) and reuses them after.

Prints a table, then one JSON object as the very last line.
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.domain.einvoice import invoice_xml  # noqa: E402
from chalicelib.domain.order import PaymentMethod  # noqa: E402  (after the path above)
from infrastructure.definitions import DOCUMENTS_FUNCTION  # noqa: E402
from infrastructure.documents_package import build_package, zipped_size  # noqa: E402
from invoice_pdf.facturx_pdf import render_einvoice  # noqa: E402
from invoice_pdf.render import FONTS, render  # noqa: E402
from tests.invoice_samples import business_order, invoice_of, paid_order  # noqa: E402

RUNS = 30
DEPENDENCIES = ("fpdf2", "fonttools", "defusedxml", "pillow")
FACTURX_DEPENDENCIES = (
    "factur-x", "lxml", "pypdf", "python-stdnum", "iso4217",
    "requests", "urllib3", "certifi", "idna", "charset-normalizer",
)  # fmt: skip


def zipped_mb(files: list[tuple[Path, str]]) -> float:
    """The deflated size of ``files`` (path, name in the archive), in MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file, name in files:
            archive.write(file, name)
    return round(len(buffer.getvalue()) / 1e6, 2)


def distribution_files(name: str) -> list[tuple[Path, str]]:
    dist = metadata.distribution(name)
    return [
        (Path(str(dist.locate_file(f))), str(f))
        for f in dist.files or []
        if "__pycache__" not in str(f) and not str(f).endswith(".pyc")
    ]


def documents_package_mb() -> float:
    """The documents function's package, built as the synth builds it, zipped."""
    with tempfile.TemporaryDirectory() as out:
        cache = ROOT / "build" / "own-functions"
        package = build_package(DOCUMENTS_FUNCTION, ROOT, Path(out), cache)
        return round(zipped_size(package) / 1e6, 2)


def api_package_mb() -> float:
    """The API's deployment.zip (bench/package.py)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "package.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["package_mb"])


def main() -> None:
    invoice = invoice_of(paid_order(method=PaymentMethod.BANK_TRANSFER))
    started = time.perf_counter()
    render(invoice)
    first_ms = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        pdf = render(invoice)
        times.append((time.perf_counter() - started) * 1000)
    business = invoice_of(business_order(method=PaymentMethod.BANK_TRANSFER))
    xml = invoice_xml(business)
    render_einvoice(business, xml)
    facturx_times = []
    for _ in range(RUNS // 3):
        started = time.perf_counter()
        facturx_pdf = render_einvoice(business, xml)
        facturx_times.append((time.perf_counter() - started) * 1000)
    dependencies = {name: zipped_mb(distribution_files(name)) for name in DEPENDENCIES}
    facturx_dependencies = {
        name: zipped_mb(distribution_files(name)) for name in FACTURX_DEPENDENCIES
    }
    fonts = zipped_mb([(f, f.name) for f in sorted(FONTS.glob("*.ttf"))])
    figures = {
        "invoice_pdf_first_ms": round(first_ms, 1),
        "invoice_pdf_warm_p50_ms": round(statistics.median(times), 1),
        "invoice_pdf_warm_max_ms": round(max(times), 1),
        "invoice_pdf_kb": round(len(pdf) / 1000, 1),
        "renderer_dependencies_mb": dependencies,
        "renderer_dependencies_total_mb": round(sum(dependencies.values()), 2),
        "renderer_fonts_mb": fonts,
        "renderer_without_pillow_mb": round(
            sum(v for k, v in dependencies.items() if k != "pillow") + fonts, 2
        ),
        "facturx_pdf_warm_p50_ms": round(statistics.median(facturx_times), 1),
        "facturx_pdf_kb": round(len(facturx_pdf) / 1000, 1),
        "facturx_dependencies_mb": facturx_dependencies,
        "facturx_dependencies_total_mb": round(sum(facturx_dependencies.values()), 2),
        "documents_package_mb": documents_package_mb(),
        "api_package_mb": api_package_mb(),
    }
    print(f"{'invoice PDF':40}{'value':>10}")
    for name, value in figures.items():
        if isinstance(value, dict):
            for dep, size in value.items():
                print(f"{'  ' + dep + ' (zipped MB)':40}{size:>10}")
        else:
            print(f"{name:40}{value:>10}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
