"""End-to-end: the local stack as a subprocess, spoken to over real HTTP."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
READY_WITHIN_SECONDS = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    api: str
    aws: str
    dev: str
    ready_after: float
    output: list[str]


def start_stack(*extra: str) -> RunningStack:
    api_port, aws_port, dev_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SHOP_"))}
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.stack",
            "--api-port",
            str(api_port),
            "--aws-port",
            str(aws_port),
            "--dev-port",
            str(dev_port),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready = threading.Event()
    reader = drain(process, output, ready)
    deadline = started + READY_WITHIN_SECONDS
    while not ready.wait(0.1):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            reader.join(timeout=5)  # the rest of what it said before it ended
            raise AssertionError(
                f"stack not ready within {READY_WITHIN_SECONDS}s:\n{''.join(output)}"
            )
    return RunningStack(
        process,
        f"http://127.0.0.1:{api_port}",
        f"http://127.0.0.1:{aws_port}",
        f"http://127.0.0.1:{dev_port}",
        time.monotonic() - started,
        output,
    )


def drain(
    process: subprocess.Popen[str], output: list[str], ready: threading.Event
) -> threading.Thread:
    """Read the stack's output from the start, in a thread of its own, and
    set ``ready`` at its "ready in" line. One reader throughout: select()
    beside a buffered readline() misses lines the buffer already holds (a
    "ready in" read in one chunk with the line before it would wait out the
    deadline). And it keeps reading after the start: once the pipe's buffer
    (64 KiB) is full, every thread of the stack that logs would block on the
    write, holding the logging lock, and the stack would hang."""

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.startswith("ready in"):
                ready.set()

    reader = threading.Thread(target=read, name="stack output", daemon=True)
    reader.start()
    return reader


def stop_stack(stack: RunningStack) -> int:
    stack.process.send_signal(signal.SIGINT)
    try:
        return stack.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        # The stack dumps its threads' stacks if stopping hangs: show them.
        tail = "".join(stack.output[-200:])
        raise AssertionError(f"stack did not stop within 30 s:\n{tail[-20000:]}") from None


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    running = start_stack()
    yield running
    if running.process.poll() is None:
        stop_stack(running)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Without these flags Chromium keeps trying Google's hosts on a closed network.
# Playwright adds --headless and a fresh profile directory itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (the dev page's and the back office's tests)."""
    if CHROMIUM is None:
        pytest.skip(
            "no Chromium on this machine: `make test` installs Debian's chromium; run it as root "
            "or `apt-get install chromium`"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (make setup)"
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
