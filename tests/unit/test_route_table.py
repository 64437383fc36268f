"""The API's lazy route table (chalicelib/api/routes.py): a cold start loads
only the module of the route it answers, and the table cannot drift from
what the route modules register."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice import Blueprint, Chalice

from chalicelib.api.routes import TABLE, LazyRoutes, RouteTableError

ROOT = Path(__file__).resolve().parents[2]

#: A checkout without its Idempotency-Key: refused before any AWS call.
CHECKOUT_WITHOUT_KEY = {
    "resource": "/orders",
    "path": "/orders",
    "httpMethod": "POST",
    "requestContext": {
        "httpMethod": "POST",
        "resourcePath": "/orders",
        "path": "/orders",
        "stage": "api",
        "requestId": "req-1",
        "identity": {"sourceIp": "127.0.0.1"},
    },
    "headers": {"content-type": "application/json"},
    "multiValueQueryStringParameters": None,
    "pathParameters": None,
    "stageVariables": None,
    "body": "{}",
    "isBase64Encoded": False,
}


def test_a_cold_start_loads_only_the_module_of_its_route() -> None:
    probe = (
        "import json, sys\n"
        "import app\n"
        "before = sorted(m for m in sys.modules if m.startswith('chalicelib.api.'))\n"
        f"event = json.loads({json.dumps(json.dumps(CHECKOUT_WITHOUT_KEY))})\n"
        "response = app.app(event, None)\n"
        "after = sorted(m for m in sys.modules if m.startswith('chalicelib.api.'))\n"
        "print(json.dumps({'before': before, 'after': after, 'response': response}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])

    route_modules = {owner.partition(":")[0] for owner in TABLE}
    assert not route_modules & set(found["before"])
    assert route_modules & set(found["after"]) == {"chalicelib.api.storefront"}
    assert found["response"]["statusCode"] == 400
    assert json.loads(found["response"]["body"])["error"]["code"] == "missing_idempotency_key"


def test_the_table_names_the_module_serving_every_route() -> None:
    from app import app

    served = {
        path: {entry.view_function.__module__ for entry in methods.values()}
        for path, methods in app.routes.items()
    }
    listed = {path: {owner.partition(":")[0]} for owner, paths in TABLE.items() for path in paths}
    assert served == listed


# --- the table's checks, on blueprints of a test module ---------------------------------


@pytest.fixture
def routes_module() -> Iterator[types.ModuleType]:
    """A module with two blueprints: ``shop`` (/a, /b) and ``desk`` (/c)."""
    module = types.ModuleType("route_table_probe")
    shop, desk = Blueprint("shop"), Blueprint("desk")
    shop.route("/a")(lambda: {"route": "a"})
    shop.route("/b", methods=["POST"])(lambda: {"route": "b"})
    desk.route("/c")(lambda: {"route": "c"})
    module.shop, module.desk = shop, desk  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def lazy_app(table: dict[str, tuple[str, ...]]) -> tuple[Chalice, list[Blueprint]]:
    app = Chalice(app_name="probe")
    mounted: list[Blueprint] = []

    def mount(blueprint: Blueprint) -> None:
        mounted.append(blueprint)
        app.register_blueprint(blueprint)

    app.routes = LazyRoutes(mount, table)
    return app, mounted


def test_a_lookup_registers_only_the_blueprint_serving_the_path(
    routes_module: types.ModuleType,
) -> None:
    name = routes_module.__name__
    app, mounted = lazy_app({f"{name}:shop": ("/a", "/b"), f"{name}:desk": ("/c",)})
    shop, desk = routes_module.shop, routes_module.desk

    assert "/c" in app.routes
    assert mounted == []
    assert set(app.routes["/b"]) == {"POST"}
    assert mounted == [shop]
    assert app.routes["/a"]["GET"].view_function() == {"route": "a"}
    assert mounted == [shop]
    # A path nobody serves: an empty entry, as Chalice's defaultdict gave (405).
    assert app.routes["/nowhere"] == {}

    assert sorted(app.routes) == ["/a", "/b", "/c", "/nowhere"]
    assert mounted == [shop, desk]


def test_a_route_missing_from_the_table_fails_when_the_routes_are_walked(
    routes_module: types.ModuleType,
) -> None:
    name = routes_module.__name__
    app, _ = lazy_app({f"{name}:shop": ("/a",), f"{name}:desk": ("/c",)})

    with pytest.raises(RouteTableError, match=r"not listed \['/b'\]"):
        list(app.routes.items())


def test_a_path_listed_under_the_wrong_blueprint_fails_on_lookup(
    routes_module: types.ModuleType,
) -> None:
    name = routes_module.__name__
    app, _ = lazy_app({f"{name}:shop": ("/a", "/b", "/c"), f"{name}:desk": ()})

    with pytest.raises(RouteTableError, match="registers no route for /c"):
        app.routes["/c"]


def test_threads_walking_the_routes_at_once_each_see_the_whole_table(
    routes_module: types.ModuleType,
) -> None:
    """Chalice's local server builds its route matcher in a thread per request;
    a walk must never check the table while another thread is mid-registration."""
    import threading
    import time

    name = routes_module.__name__
    app = Chalice(app_name="probe")

    def slow_mount(blueprint: Blueprint) -> None:
        time.sleep(0.05)  # widens the window between taking a module and registering it
        app.register_blueprint(blueprint)

    app.routes = LazyRoutes(slow_mount, {f"{name}:shop": ("/a", "/b"), f"{name}:desk": ("/c",)})
    seen: list[object] = []

    def walk() -> None:
        try:
            seen.append(sorted(app.routes))
        except RouteTableError as exc:
            seen.append(exc)

    threads = [threading.Thread(target=walk) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert seen == [["/a", "/b", "/c"]] * 4
