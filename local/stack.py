"""`make run`: the whole system on this machine, on an embedded AWS.

    python -m local.stack [--no-seed] [--api-port 8000] [--aws-port 4566]

State lives in the memory of this process (moto keeps everything in RAM):
stopping the stack forgets every order. That is deliberate: a storefront
developer gets a clean, seeded shop on every start.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import make_server

from local import clock as shifted_clock
from local.aws import EmbeddedAWS
from local.delivery import INVOCATION_LOCK, QueuePoller, Scheduler, StreamPump, Worker
from local.devpage import create_app
from local.resources import Provisioned

LOCAL_ADMIN_KEY = "local-admin-key"
TABLE_NAME = "shop-local"


@dataclass(frozen=True)
class Options:
    host: str = "127.0.0.1"
    aws_port: int = 4566
    api_port: int = 8000
    dev_port: int = 8001
    seed: bool = True
    speed: float = 1.0


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="make run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: loopback only)"
    )
    parser.add_argument("--aws-port", type=int, default=4566, help="embedded AWS (moto) port")
    parser.add_argument("--api-port", type=int, default=8000, help="HTTP API port")
    parser.add_argument("--dev-port", type=int, default=8001, help="dev page port")
    parser.add_argument(
        "--seed",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="load the demo catalog (default: yes)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="run the schedules this many times as often, for demos (default: 1)",
    )
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be positive")
    return Options(
        host=args.host,
        aws_port=args.aws_port,
        api_port=args.api_port,
        dev_port=args.dev_port,
        seed=args.seed,
        speed=args.speed,
    )


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def local_environment(aws: EmbeddedAWS) -> dict[str, str]:
    """The environment the app's code sees, exactly as on Lambda but for
    AWS_ENDPOINT_URL, which points boto3 at the embedded AWS. Values a
    developer has set already win. Parameter names (admin keys, webhook
    secrets) are set by ``provision`` from the definitions."""
    defaults = {
        "SHOP_STAGE": "local",
        "SHOP_TABLE_NAME": TABLE_NAME,
        "SHOP_LOCAL_ADMIN_KEY": LOCAL_ADMIN_KEY,
        "POWERTOOLS_SERVICE_NAME": "orders",
        "POWERTOOLS_METRICS_NAMESPACE": "Shop",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        # Metrics are printed as EMF JSON on Lambda; locally they are noise.
        "POWERTOOLS_METRICS_DISABLED": "true",
        # As on Lambda (.chalice/config.json): we use no pydantic plugins, so
        # pydantic need not scan every installed package's entry points.
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
    }
    return {
        **defaults,
        **{k: v for k, v in os.environ.items() if k in defaults},
        **aws.environment(),
    }


def faster_clock_environment(speed: float) -> dict[str, str]:
    """For demos: payment windows and the nudge delay shrink by ``speed``,
    as the schedules run ``speed`` times as often, so an unpaid order
    expires and an abandoned cart is nudged within minutes."""
    if speed == 1:
        return {}
    defaults = {
        "SHOP_PAYMENT_WINDOW_CARD_MINUTES": str(30 / speed),
        "SHOP_PAYMENT_WINDOW_PAYPAL_MINUTES": str(30 / speed),
        "SHOP_PAYMENT_WINDOW_BANK_TRANSFER_MINUTES": str(7 * 24 * 60 / speed),
        "SHOP_PAYMENT_ATTEMPT_GRACE_MINUTES": "0",
        "SHOP_CART_NUDGE_DELAY_HOURS": str(10 / speed),
    }
    return {**defaults, **{k: v for k, v in os.environ.items() if k in defaults}}


def linked_environment(api_url: str, dev_url: str) -> dict[str, str]:
    """Settings that point at this stack's own servers: the fake payment
    provider (its pay page is on the dev page), Stripe's return URLs, the
    links in emails. A developer's own values win."""
    defaults = {
        # Stripe's API replaced by the fake provider: no network. Callbacks
        # still arrive in Stripe's format and signature (whsec_local).
        "SHOP_PAYMENT_PROVIDER_API": "fake",
        "SHOP_FAKE_PAY_PAGE_URL": dev_url,
        "SHOP_CHECKOUT_SUCCESS_URL": f"{dev_url}/?paid={{order_id}}#orders",
        "SHOP_CHECKOUT_CANCEL_URL": f"{dev_url}/?cancelled={{order_id}}#orders",
        "SHOP_PUBLIC_API_URL": api_url,
        # moto answers one request at a time (see local/aws.py): under a burst
        # of clients a call can wait seconds for its turn, which DynamoDB's
        # millisecond answers never need.
        "SHOP_AWS_READ_TIMEOUT_SECONDS": "60",
        "SHOP_CART_LINK_TEMPLATE": f"{dev_url}/?cart={{cart_id}}&token={{token}}",
        # The standard example IBAN from the ISO 13616 documentation.
        "SHOP_BANK_ACCOUNT_HOLDER": "Example Shop GmbH",
        "SHOP_BANK_IBAN": "DE89370400440532013000",
        "SHOP_BANK_BIC": "COBADEFFXXX",
    }
    return {**defaults, **{k: v for k, v in os.environ.items() if k in defaults}}


def provision(seed: bool) -> Provisioned:
    """Create every resource from the shared definitions, point the app's
    settings at them, then seed the demo catalog."""
    import hashlib
    import json

    from chalicelib import bootstrap
    from infrastructure.definitions import ADMIN_KEY_HASHES
    from local.resources import create_email_identity, create_staff_pool
    from local.resources import provision as create_resources
    from local.seed import seed_catalog

    bootstrap.reset()
    admin_key = os.environ["SHOP_LOCAL_ADMIN_KEY"]
    created = create_resources(
        bootstrap.aws_client,
        os.environ["SHOP_TABLE_NAME"],
        {ADMIN_KEY_HASHES.env: json.dumps([hashlib.sha256(admin_key.encode()).hexdigest()])},
    )
    table = bootstrap.aws_client("dynamodb").describe_table(TableName=created.table_name)["Table"]
    os.environ.update(
        {
            "SHOP_TABLE_STREAM_ARN": table["LatestStreamArn"],
            "SHOP_EVENT_BUS_NAME": created.bus_name,
            "SHOP_INVOICE_BUCKET": created.invoice_bucket,
            **created.parameters,
            **{
                f"SHOP_{name.upper().replace('-', '_')}_QUEUE_URL": url
                for name, url in created.queue_urls.items()
            },
        }
    )
    bootstrap.reset()
    settings = bootstrap.get_settings()  # all groups, the emails' included
    create_email_identity(
        bootstrap.aws_client("sesv2"), settings.email_sender, settings.ses_configuration_set
    )
    # The back office's users (docs/back-office.md): Cognito on the embedded AWS.
    staff = create_staff_pool(bootstrap.aws_client("cognito-idp"))
    os.environ.update(
        {
            "SHOP_STAFF_USER_POOL_ID": staff.user_pool_id,
            "SHOP_STAFF_USER_POOL_CLIENT_ID": staff.client_id,
        }
    )
    bootstrap.reset()
    if seed:
        seed_catalog(bootstrap.context())
    return created


def gateway_answer(status: int, body: bytes, request_id: str) -> tuple[int, bytes]:
    """Chalice local's own answer (an authorizer refusal, an unknown path) as
    the deployment's gateway responses give it (chalicelib/api/gateway.py)."""
    from chalicelib.api import gateway

    unknown_path = b"Missing Authentication Token" in body or b"Credential" in body
    status = 404 if unknown_path else status
    return status, gateway.error_body(status, request_id)


def api_server(host: str, port: int) -> Any:
    """Chalice's local server, with keep-alive clients answered at once."""
    from chalice.cli import factory
    from chalice.local import ChaliceRequestHandler, LocalDevServer, ThreadedHTTPServer

    from app import app

    class Handler(ChaliceRequestHandler):
        # Without TCP_NODELAY a keep-alive client waits ~40 ms on each
        # request for the delayed ACK (Nagle's algorithm).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the app logs each request itself, as JSON

        def _generic_handle(self) -> None:
            # The connection threads read and write concurrently; the app
            # handles one request at a time (see INVOCATION_LOCK).
            with INVOCATION_LOCK:
                super()._generic_handle()

        # chalice binds these to its own _generic_handle at class creation.
        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

        def _send_error_response(self, error: Any) -> None:
            # What API Gateway answers itself (authorizer refusals, unknown
            # paths) in our error shape, as the deployment's gateway
            # responses do (chalicelib/api/gateway.py).
            request_id = error.headers.get("x-amzn-RequestId", "")
            status, body = gateway_answer(error.CODE, error.body or b"", request_id)
            headers = {"Content-Type": "application/json", "X-Request-Id": request_id}
            self._send_http_response(status, headers, body)

    config = factory.CLIFactory(
        project_dir=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ).create_config_obj(chalice_stage_name="dev")

    class Server(ThreadedHTTPServer):
        # The stdlib's default listen backlog is 5: a burst of storefront
        # clients (or the load bench's 200) would see connection resets.
        request_queue_size = 256
        # Ctrl-C does not wait for a browser's idle keep-alive connection, or
        # for a request still queued for its turn (INVOCATION_LOCK).
        daemon_threads = True
        block_on_close = False

    return LocalDevServer(app, config, host, port, handler_cls=Handler, server_cls=Server)


def own_functions() -> dict[str, Any]:
    """The functions outside the Chalice app (definitions.OWN_FUNCTIONS), by
    name: their handlers, imported as Lambda would from their packages."""
    import importlib

    from infrastructure import definitions

    found = {}
    for spec in definitions.OWN_FUNCTIONS:
        module, _, name = spec.handler.rpartition(".")
        found[spec.name] = getattr(importlib.import_module(module), name)
    return found


def delivery_workers(resources: Provisioned, speed: float) -> list[Worker]:
    """Stream pump, queue pollers and schedules for every handler the app has."""
    from app import app
    from chalicelib import bootstrap
    from infrastructure import definitions

    handlers = {**app.handler_map, **own_functions()}
    workers: list[Worker] = []
    if "publish_order_events" in handlers:
        workers.append(
            StreamPump(bootstrap.aws_client, resources.table_name, handlers, "publish_order_events")
        )
    for queue in definitions.QUEUES:
        if queue.consumer in handlers:
            workers.append(
                QueuePoller(
                    bootstrap.aws_client("sqs"),
                    resources.queue_urls[queue.name],
                    resources.queue_arns[queue.name],
                    handlers,
                    queue.consumer,
                    queue.batch_size,
                )
            )
    for schedule in definitions.SCHEDULES:
        if schedule.handler in handlers:
            workers.append(
                Scheduler(handlers, schedule.handler, schedule.every_minutes * 60 / speed)
            )
    return workers


class LocalStack:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.aws: EmbeddedAWS | None = None
        self.api: Any = None
        self.dev: Any = None
        self.resources: Provisioned | None = None
        self.workers: list[Worker] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        o = self.options
        taken = [
            str(p)
            for p in (o.aws_port, o.api_port, o.dev_port)
            if p and not port_is_free(o.host, p)
        ]
        if taken:
            raise SystemExit(
                f"port {', '.join(taken)} on {o.host} is already in use: stop the other process "
                "(another `make run`?) or pick other ports, e.g. make run ARGS='--api-port 8080'"
            )
        self.aws = EmbeddedAWS(o.host, o.aws_port).start()
        os.environ.update(local_environment(self.aws))
        self.api = api_server(o.host, o.api_port)
        self.dev = make_server(o.host, o.dev_port, create_app(self.api_url), threaded=True)
        os.environ.update(linked_environment(self.api_url, self.dev_url))
        os.environ.update(faster_clock_environment(o.speed))
        self.resources = provision(o.seed)
        shifted_clock.install()
        self._spawn("api", self.api.server.serve_forever)
        self._spawn("dev page", self.dev.serve_forever)
        self.workers = delivery_workers(self.resources, o.speed)
        for worker in self.workers:
            worker.start()

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    @property
    def dev_url(self) -> str:
        host, port = self.dev.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        host, port = self.api.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        # Five seconds for all of them together: each finishes its current
        # invocation, which may first wait for its turn (INVOCATION_LOCK).
        deadline = time.monotonic() + 5
        for worker in self.workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
        if self.dev is not None:
            self.dev.shutdown()
            self.dev.server_close()
        if self.api is not None:
            self.api.server.shutdown()
            self.api.server.server_close()
        if self.aws is not None:
            self.aws.stop()


#: Ctrl-C and `kill`: what stops the stack.
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    started = time.monotonic()
    # Blocked here, before any thread starts, so every thread inherits the
    # mask and a stop signal stays pending until the main thread takes it
    # (sigwait below). With a Python handler instead, Linux may deliver the
    # signal to a busy worker or server thread; the handler then only runs
    # when the main thread next executes Python, which it never does while
    # blocked in a wait, and the stack ignored Ctrl-C (seen once in CI).
    # A Ctrl-C during start-up stops the stack as soon as it is ready.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    stack = LocalStack(options)
    stack.start()
    print(
        f"ready in {time.monotonic() - started:.1f}s\n"
        f"  HTTP API      {stack.api_url}\n"
        f"  dev page      {stack.dev_url}   <- open this in a browser\n"
        f"  embedded AWS  {stack.aws.url if stack.aws else ''}  (moto: in memory, gone on exit)\n"
        f"  back office   {stack.api_url}/backoffice  (owner@shop.local, see README)\n"
        f"  admin key     {os.environ['SHOP_LOCAL_ADMIN_KEY']}\n"
        f"  delivering    {', '.join(w.name for w in stack.workers) or 'nothing'}\n"
        + (
            f"  clock         {options.speed:g}x: schedules and payment windows sped up\n"
            if options.speed != 1
            else ""
        )
        + "Ctrl-C stops everything.",
        flush=True,
    )
    signal.sigwait(STOP_SIGNALS)
    # A second Ctrl-C while stopping kills the process outright.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    print("stopping...", flush=True)
    # If stopping ever hangs, say where every thread is (to the output the
    # developer or the test harness reads).
    faulthandler.dump_traceback_later(15)
    stack.stop()
    faulthandler.cancel_dump_traceback_later()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything was stopped in order; do not wait at exit for a daemon
    # thread still busy with a request that was queued for its turn.
    os._exit(code)
