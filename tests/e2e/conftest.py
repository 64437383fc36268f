"""End-to-end: the local stack as a subprocess, spoken to over real HTTP."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
    assert process.stdout is not None
    deadline = started + READY_WITHIN_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            output.append(line)
            if line.startswith("ready in"):
                drain(process, output)
                return RunningStack(
                    process,
                    f"http://127.0.0.1:{api_port}",
                    f"http://127.0.0.1:{aws_port}",
                    f"http://127.0.0.1:{dev_port}",
                    time.monotonic() - started,
                    output,
                )
    process.kill()
    raise AssertionError(f"stack not ready within {READY_WITHIN_SECONDS}s:\n{''.join(output)}")


def drain(process: subprocess.Popen[str], output: list[str]) -> None:
    """Keep reading the stack's output after it is ready: once the pipe's
    buffer (64 KiB) is full, every thread of the stack that logs would block
    on the write, holding the logging lock, and the stack would hang."""

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)

    threading.Thread(target=read, name="stack output", daemon=True).start()


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
