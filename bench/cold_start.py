"""Cold start: what a new Lambda instance of ours costs against the smallest
Chalice + boto3 app with the same handlers (bench/minimal_app.py).

The apps run as Lambda runs them: from their packages. Each is built with
``chalice package`` and the deployment's bytecode step (bench/package.py,
infrastructure/bytecode.py) and unpacked; a child Python sees only that
directory and boto3 with its dependencies (what the Lambda runtime
provides), not .venv's site-packages, gets its function's environment
variables from the package's sam.json and Lambda's ``_HANDLER``, and writes
no bytecode (/var/task is read-only). So the figure includes compiling
whatever the package ships uncompiled, as a real cold start does.

For every handler, a fresh interpreter (as a new Lambda instance is) times
two things: importing the module Lambda loads for it (``app`` for the API,
the job's own module for queue, stream and schedule handlers, as in
sam.json) and the handler's first invocation with a real event. All apps
run in the same round against the same embedded AWS (moto server on
loopback), alternating, so machine load hits all alike; each
figure is the median over ``BENCH_RUNS`` rounds. The events are made fresh
for every round by driving our own app in this process (an order placed, its
stream records, the notification and payment messages they led to), so no
child ever gets a duplicate that our receipts would skip.

The ratio per handler is (import + first invocation) ours / minimal's,
taken per round (the children run back to back, so a slow spell of a
shared machine hits both) and reported as the median over the rounds, with
the lowest and highest round beside it to show the noise. The JSON's
``cold_start_ratio`` is the worst handler's median (target <= 1.5).
``first_call_ratio_max`` is the worst handler's first invocation alone,
ours / minimal's: in Lambda that is the part of a cold start that runs on
the function's share of a vCPU, where the import (init) runs on a full one
(chalicelib/bootstrap.py ``prepare_at_init``).

A third app splits the ratio: the stack's floor (bench/stack_floor_app.py),
the minimal app's handlers plus what the chosen stack makes every handler of
ours do (parse with a pydantic model, log through powertools' Logger), packaged
with our pins and our functions' common variables. Per handler, ``floor`` is
floor / minimal (what the stack costs before a line of ours) and ``own`` is
ours / floor (what our code adds); ratio = floor x own, round by round. The
JSON's ``stack_floor_ratio_max`` and ``own_code_ratio_max`` are their worst
handlers'.

On a shared machine the milliseconds move with everyone else's load (the
paired rounds cancel much of it, not all). ``BENCH_INSTRUCTIONS=1`` counts
instead the instructions each child executes (valgrind's callgrind, about
50 times slower, so one round is the default there): the count does not
depend on the machine's load, so a change of a few percent shows in one
round. The interpreter's own start-up (``python -S -c pass``) is subtracted,
and the count is split into import and first invocation in the proportion of
the child's own clock. ``BENCH_HANDLERS`` (comma-separated names from
``HANDLERS``) runs only those handlers.

Prints a table, then one JSON object as the very last line.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
INSTRUCTIONS = os.environ.get("BENCH_INSTRUCTIONS") == "1"
RUNS = int(os.environ.get("BENCH_RUNS", "1" if INSTRUCTIONS else "5"))
#: What the figures are: milliseconds, or millions of instructions.
UNIT = "M instructions" if INSTRUCTIONS else "ms"
CALLGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")
TARGET = 1.5
SKU = "TEA-SENCHA-100"

#: handler -> the module Lambda imports for it (sam.json's "Handler"): the
#: API function loads app.py; the others load only their own module.
HANDLERS = {
    "GET /products/{sku}": "app",
    "POST /orders": "app",
    "POST /webhooks/payments/stripe": "app",
    "send_notifications": "chalicelib.jobs.notifications",
    "apply_payment_events": "chalicelib.jobs.payment_events",
    "publish_order_events": "chalicelib.jobs.outbox",
    "expire_unpaid_orders": "chalicelib.jobs.schedules",
}
if os.environ.get("BENCH_HANDLERS"):
    HANDLERS = {
        name: HANDLERS[name] for name in os.environ["BENCH_HANDLERS"].split(",") if name.strip()
    }

# --- the child: one cold start, one handler ------------------------------------------

CHILD = r"""
import json, sys, time
spec = json.load(sys.stdin)
started = time.perf_counter()
import importlib
module = importlib.import_module(spec["module"])
imported = time.perf_counter()

class Context:
    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:bench"
    memory_limit_in_mb = 512
    aws_request_id = "bench-request"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 60_000

handler = module.app if spec["handler"] == "api" else getattr(module, spec["handler"])
result = handler(spec["event"], Context())
done = time.perf_counter()
print(json.dumps({
    "import_ms": (imported - started) * 1000,
    "first_ms": (done - imported) * 1000,
    "result": result,
}, default=str))
"""


#: What the Lambda Python runtime provides besides the standard library.
RUNTIME_PROVIDES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


class Task:
    """One app unpacked from its deployment.zip, as in Lambda's /var/task,
    with each function's environment variables from the package's sam.json
    (.chalice/config.json's, such as PYDANTIC_DISABLE_PLUGINS)."""

    def __init__(self, archive: Path, task: Path, runtime: Path) -> None:
        with zipfile.ZipFile(archive) as z:
            z.extractall(task)
        self.task = task
        self.path = f"{task}{os.pathsep}{runtime}"
        self.environments = function_environments(archive.parent / "sam.json")

    def environment(self, module: str, handler: str) -> dict[str, str]:
        """What Lambda sets for the function whose handler this is; the
        bench's own variables (the embedded AWS's endpoints and names, its
        log level) win where both set one."""
        attribute = "app" if handler == "api" else handler
        deployed = self.environments.get(f"{module}.{attribute}", {})
        # Reserved, set by Lambda for every function: what it prepares at init
        # depends on it (chalicelib/bootstrap.py prepare_at_init).
        return {**deployed, **os.environ, "_HANDLER": f"{module}.{attribute}"}


def function_environments(sam: Path) -> dict[str, dict[str, str]]:
    """Handler -> its literal environment variables (references, which the
    infrastructure resolves, are left out: the bench sets those itself)."""
    from infrastructure.bytecode import function_properties

    found: dict[str, dict[str, str]] = {}
    for properties in function_properties(sam):
        variables = properties.get("Environment", {}).get("Variables", {})
        found[properties["Handler"]] = {
            name: value for name, value in variables.items() if isinstance(value, str)
        }
    return found


def runtime_dir(root: Path) -> Path:
    """boto3 and its dependencies from .venv, and nothing else of it."""
    root.mkdir()
    for name in RUNTIME_PROVIDES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (root / source.name).symlink_to(source)
    return root


def minimal_project(root: Path) -> Path:
    """bench/minimal_app.py as a chalice project of its own."""
    return chalice_project(root, "minimal", {"app.py": "minimal_app.py"})


def floor_project(root: Path) -> Path:
    """bench/stack_floor_app.py over the minimal app (as its
    chalicelib/minimal.py), with our pins of pydantic and powertools and the
    variables all our functions get (.chalice/config.json's top level, such
    as PYDANTIC_DISABLE_PLUGINS)."""
    ours = json.loads((ROOT / ".chalice" / "config.json").read_text())
    pinned = [
        line
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.startswith(("pydantic==", "aws-lambda-powertools=="))
    ]
    assert len(pinned) == 2, pinned
    return chalice_project(
        root,
        "stack-floor",
        {"app.py": "stack_floor_app.py", "chalicelib/minimal.py": "minimal_app.py"},
        requirements=tuple(pinned),
        environment={**ours["environment_variables"], "BENCH_KEY_PREFIX": "FLOOR"},
    )


def chalice_project(root: Path, name: str, files: dict[str, str], *,
                    requirements: tuple[str, ...] = (),
                    environment: dict[str, str] | None = None) -> Path:  # fmt: skip
    """A chalice project of bench/ files (project path -> bench file)."""
    (root / ".chalice").mkdir(parents=True)
    for target, source in files.items():
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "bench" / source, root / target)
    if (root / "chalicelib").is_dir():
        (root / "chalicelib" / "__init__.py").touch()
    (root / "requirements.txt").write_text("".join(f"{line}\n" for line in requirements))
    config = {"version": "2.0", "app_name": name, "stages": {"prod": {}},
              "environment_variables": environment or {}}  # fmt: skip
    (root / ".chalice" / "config.json").write_text(json.dumps(config))
    return root


def counted(stderr: str) -> float:
    """Millions of instructions, from callgrind's summary line."""
    (line,) = [line for line in stderr.splitlines() if "Collected :" in line]
    return int(line.rsplit(":", 1)[1]) / 1e6


@functools.cache
def startup_instructions() -> float:
    """What an empty interpreter executes, subtracted from every child's count."""
    done = subprocess.run(
        [*CALLGRIND, sys.executable, "-S", "-c", "pass"],
        check=True, capture_output=True, text=True, env={"PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    return counted(done.stderr)


def run_child(task: Task, module: str, handler: str, event: dict[str, Any]) -> dict[str, Any]:
    spec = {"module": module, "handler": handler, "event": event}
    command = [sys.executable, "-S", "-c", CHILD]
    done = subprocess.run(
        [*CALLGRIND, *command] if INSTRUCTIONS else command,
        input=json.dumps(spec, default=str),
        check=False,
        capture_output=True,
        text=True,
        cwd=task.task,
        env={
            **task.environment(module, handler),
            "PYTHONPATH": task.path,
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        timeout=1200 if INSTRUCTIONS else 120,
    )
    child = f"{task.task.name}: {module}"
    if done.returncode != 0:
        raise SystemExit(f"{child}.{handler} failed:\n{done.stderr[-3000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith('{"import_ms"')]
    outcome: dict[str, Any] = json.loads(lines[-1])
    check_succeeded(child, handler, outcome["result"], done.stderr)
    if INSTRUCTIONS:
        total = counted(done.stderr) - startup_instructions()
        share = outcome["import_ms"] / (outcome["import_ms"] + outcome["first_ms"])
        outcome["import_ms"], outcome["first_ms"] = total * share, total * (1 - share)
    return outcome


def check_succeeded(child: str, handler: str, result: Any, stderr: str) -> None:
    """A cold start that failed would be cheap and meaningless."""
    if isinstance(result, dict) and "statusCode" in result:
        ok = 200 <= result["statusCode"] < 300
    elif isinstance(result, dict) and "batchItemFailures" in result:
        ok = not result["batchItemFailures"]
    else:
        ok = True
    if not ok:
        raise SystemExit(
            f"{child}.{handler} did not succeed: {json.dumps(result)[:2000]}\n{stderr[-3000:]}"
        )


# --- the parent: one embedded AWS, fresh events per round ----------------------------


def api_event(method: str, path: str, route: str, params: dict[str, str], body: bytes | None,
              headers: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    """What API Gateway's REST proxy integration hands to Lambda."""
    return {
        "resource": route,
        "path": path,
        "httpMethod": method,
        "requestContext": {
            "httpMethod": method,
            "resourcePath": route,
            "path": path,
            "stage": "api",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "headers": {k.lower(): v for k, v in headers.items()},
        "multiValueQueryStringParameters": None,
        "pathParameters": params or None,
        "stageVariables": None,
        "body": body.decode() if body is not None else None,
        "isBase64Encoded": False,
    }


class World:
    """Our app in this process, on the embedded AWS, making real events."""

    def __init__(self) -> None:
        from chalice.test import Client

        from app import app
        from chalicelib import bootstrap

        self.client = Client(app, stage_name="local")
        self.bootstrap = bootstrap
        self.settings = bootstrap.get_settings()
        self.sqs = bootstrap.aws_client("sqs")
        streams = bootstrap.aws_client("dynamodbstreams")
        dynamodb = bootstrap.aws_client("dynamodb")
        self.stream_arn = dynamodb.describe_table(TableName=self.settings.table_name)["Table"][
            "LatestStreamArn"
        ]
        self.streams = streams
        shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        self.iterators = [
            streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=s["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for s in shards
        ]

    def queue(self, name: str) -> tuple[str, str]:
        url = os.environ[f"SHOP_{name.upper().replace('-', '_')}_QUEUE_URL"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return url, arn

    def drain(self, name: str) -> list[dict[str, Any]]:
        url, _ = self.queue(name)
        messages: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", []):
            messages.extend(batch)
            for m in batch:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return messages

    def place(self) -> dict[str, Any]:
        response = self.client.http.post(
            "/orders",
            body=json.dumps(order_body()),
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": f"bench-{uuid.uuid4()}",
            },
        )
        assert response.status_code == 201, response.body
        placed: dict[str, Any] = json.loads(response.body)
        return placed

    def stream_records(self) -> list[dict[str, Any]]:
        from local.delivery import stream_lambda_records

        records: list[dict[str, Any]] = []
        for i, iterator in enumerate(self.iterators):
            response = self.streams.get_records(ShardIterator=iterator)
            self.iterators[i] = response["NextShardIterator"]
            records.extend(stream_lambda_records(response["Records"], self.stream_arn))
        return records

    def signed_payment(self, order_id: str) -> tuple[bytes, dict[str, str]]:
        from chalicelib.payments.fake import signed_request

        order = self.bootstrap.context().orders.get(order_id).order
        return signed_request(self.bootstrap.fake_stripe().pay(order))

    def events(self) -> dict[str, dict[str, Any]]:
        """One fresh event per handler."""
        from chalicelib.jobs.outbox import publish_records
        from local.delivery import sqs_lambda_event

        self.drain("notifications")
        self.drain("payment-events")
        self.stream_records()  # skip what earlier children wrote
        placed = self.place()
        records = self.stream_records()
        publish_records(records)  # -> bus -> the notifications queue
        confirmation = self.drain("notifications")[:1]
        paid = self.place()
        body, headers = self.signed_payment(paid["id"])
        response = self.client.http.post("/webhooks/payments/stripe", body=body, headers=headers)
        assert response.status_code < 300, response.body
        payment_messages = self.drain("payment-events")
        webhook_body, webhook_headers = self.signed_payment(placed["id"])
        order_body_bytes = json.dumps(order_body()).encode()
        return {
            "GET /products/{sku}": api_event(
                "GET", f"/products/{SKU}", "/products/{sku}", {"sku": SKU}, None, {}
            ),
            "POST /orders": api_event(
                "POST",
                "/orders",
                "/orders",
                {},
                order_body_bytes,
                {"Content-Type": "application/json", "Idempotency-Key": f"bench-{uuid.uuid4()}"},
            ),
            "POST /webhooks/payments/stripe": api_event(
                "POST",
                "/webhooks/payments/stripe",
                "/webhooks/payments/{provider}",
                {"provider": "stripe"},
                webhook_body,
                webhook_headers,
            ),
            "send_notifications": sqs_lambda_event(confirmation, self.queue("notifications")[1]),
            "apply_payment_events": sqs_lambda_event(
                payment_messages, self.queue("payment-events")[1]
            ),
            "publish_order_events": {"Records": records},
            "expire_unpaid_orders": {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": "123456789012",
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "region": "eu-central-1",
                "resources": ["arn:aws:events:eu-central-1:123456789012:rule/bench"],
                "detail": {},
            },
        }


def order_body() -> dict[str, Any]:
    return {
        "lines": [{"sku": SKU, "quantity": 1}],
        "customer": {"email": "erika@example.com", "name": "Erika Mustermann"},
        "shipping_address": {
            "name": "Erika Mustermann",
            "line1": "Hauptstr. 1",
            "postal_code": "10115",
            "city": "Berlin",
            "country": "DE",
        },
        "payment_method": "card",
        "locale": "de",
        "terms_accepted": {"version": "2026-06-19"},  # ShopSettings.terms_version's default
    }


def round_ratios(sample: dict[str, list[float]], top: str, bottom: str) -> list[float]:
    """(import + first invocation) of ``top`` / ``bottom``, per round."""
    return [
        (ti + tf) / (bi + bf)
        for ti, tf, bi, bf in zip(
            sample[f"{top}_import"], sample[f"{top}_first"], sample[f"{bottom}_import"],
            sample[f"{bottom}_first"], strict=True,
        )
    ]  # fmt: skip


def median_ratio(sample: dict[str, list[float]], top: str, bottom: str) -> float:
    return round(statistics.median(round_ratios(sample, top, bottom)), 2)


def handler_name(name: str) -> str:
    return "api" if " " in name else name


def main() -> None:
    # Before anything imports the logger: the children inherit it too, and
    # a log line per request would only interleave with the table.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    from bench.package import build_package
    from local.aws import EmbeddedAWS
    from local.stack import (
        faster_clock_environment,
        linked_environment,
        local_environment,
        provision,
    )

    work = Path(tempfile.mkdtemp(prefix="cold-start-"))
    runtime = runtime_dir(work / "runtime")
    ours_task = Task(build_package(ROOT, work / "ours"), work / "ours-task", runtime)
    minimal_archive = build_package(minimal_project(work / "minimal-project"), work / "minimal")
    minimal_task = Task(minimal_archive, work / "minimal-task", runtime)
    floor_archive = build_package(floor_project(work / "floor-project"), work / "floor")
    floor_task = Task(floor_archive, work / "floor-task", runtime)
    apps = {"ours": ours_task, "floor": floor_task, "min": minimal_task}

    aws = EmbeddedAWS(port=0).start()
    os.environ.update(local_environment(aws))
    os.environ.update(linked_environment("http://127.0.0.1:8000", "http://127.0.0.1:8001"))
    os.environ.update(faster_clock_environment(1))
    provision(seed=True)
    world = World()
    os.environ["BENCH_SENDER"] = world.settings.email_sender

    samples: dict[str, dict[str, list[float]]] = {
        h: {f"{a}_{part}": [] for a in apps for part in ("import", "first")} for h in HANDLERS
    }
    for _ in range(RUNS):
        events = world.events()
        for name, module in HANDLERS.items():
            if INSTRUCTIONS:
                # Minutes per child under callgrind: a callback signed at the
                # round's start would be past its tolerance (300 s) by now.
                events = world.events()
            for label, task in apps.items():
                # Only ours splits its functions' modules; the others are one app.py.
                child_module = module if label == "ours" else "app"
                outcome = run_child(task, child_module, handler_name(name), events[name])
                samples[name][f"{label}_import"].append(outcome["import_ms"])
                samples[name][f"{label}_first"].append(outcome["first_ms"])
    aws.stop()
    shutil.rmtree(work)

    rows = []
    for name in HANDLERS:
        sample = samples[name]
        m = {k: statistics.median(v) for k, v in sample.items()}
        ratios = round_ratios(sample, "ours", "min")
        rows.append({"handler": name, **{k: round(v, 1) for k, v in m.items()},
                     "ratio": round(statistics.median(ratios), 2),
                     "ratio_range": [round(min(ratios), 2), round(max(ratios), 2)],
                     "floor_ratio": median_ratio(sample, "floor", "min"),
                     "own_ratio": median_ratio(sample, "ours", "floor")})  # fmt: skip
    import_ratio = statistics.median(
        [r["ours_import"] / r["min_import"] for r in rows if r["min_import"]]
    )
    # The part Lambda runs on the function's share of a vCPU (its init runs
    # on a full one): the first invocation alone, worst handler.
    first_call_ratio = max(r["ours_first"] / r["min_first"] for r in rows if r["min_first"])

    print(f"cold start, median of {RUNS} fresh interpreters per handler ({UNIT})")
    header = (
        f"{'handler':32} {'import':>8} {'first':>8} {'min imp':>8} {'min 1st':>8} "
        f"{'ratio':>6} {'range':>11} {'floor':>6} {'own':>5}"
    )
    print(header)
    for r in rows:
        low, high = r["ratio_range"]
        print(
            f"{r['handler']:32} {r['ours_import']:>8} {r['ours_first']:>8} "
            f"{r['min_import']:>8} {r['min_first']:>8} {r['ratio']:>6} {f'{low}-{high}':>11} "
            f"{r['floor_ratio']:>6} {r['own_ratio']:>5}"
        )
    print(
        "floor: the stack alone (bench/stack_floor_app.py: the minimal app plus a pydantic "
        "model and a powertools log line) / minimal; own: ours / that floor"
    )
    worst = max(rows, key=lambda r: r["ratio"])
    print(
        json.dumps(
            {
                "cold_start_ratio": worst["ratio"],
                "cold_start_worst_handler": worst["handler"],
                "import_ratio": round(import_ratio, 2),
                "first_call_ratio_max": round(first_call_ratio, 2),
                "stack_floor_ratio_max": max(r["floor_ratio"] for r in rows),
                "own_code_ratio_max": max(r["own_ratio"] for r in rows),
                "target": TARGET,
                "runs": RUNS,
                "unit": UNIT,
                "handlers": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
