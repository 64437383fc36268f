"""Jinja2 rendering of the email templates in templates/.

Layout: ``base.html``/``base.txt`` hold the frame (logo, shop name, footer
with address and support email, the opt-out link of marketing mail);
``<locale>/<kind>.html`` and ``.txt`` the words of each email.
"""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib.notify import formatting

TEMPLATES = Path(__file__).parent / "templates"


def _money(ctx: Any, amount: int, currency: str) -> str:
    return formatting.money(amount, currency, ctx["locale"])


def _date(ctx: Any, moment: datetime | str) -> str:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return formatting.date_time(moment, ctx["locale"], ctx["shop"].timezone)


def environment_over(loader: Any) -> Any:
    """A Jinja2 environment that renders the emails, over ``loader``."""
    import jinja2

    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # The filters read the reader's locale and the shop from the template context.
    env.filters["money"] = jinja2.pass_context(_money)
    env.filters["datetime"] = jinja2.pass_context(_date)
    return env


def source_environment() -> Any:
    """The environment over the template sources, each compiled on first use."""
    import jinja2

    return environment_over(jinja2.FileSystemLoader(TEMPLATES))


@functools.cache
def environment() -> Any:
    """The environment the emails render in: the templates compiled when the
    package was built where they are up to date (compiled_templates.py), the
    sources otherwise."""
    # jinja2 is imported on first render, not at cold start: the stream and
    # API functions share the package and never render an email.
    import jinja2

    from chalicelib.notify import compiled_templates

    return environment_over(compiled_templates.loader(jinja2.FileSystemLoader(TEMPLATES)))


def render(kind: str, locale: str, values: dict[str, Any]) -> tuple[str, str]:
    """(html, text) of one email kind in one locale."""
    env = environment()
    context = {**values, "locale": locale, "kind": kind}
    html = env.get_template(f"{locale}/{kind}.html").render(context)
    text = env.get_template(f"{locale}/{kind}.txt").render(context)
    return html, text


def render_string(source: str, locale: str, values: dict[str, Any]) -> str:
    """A one-line template such as a subject (never autoescaped: it is a header)."""
    return str(_string_template(source).render({**values, "locale": locale}) or "").strip()


@functools.cache
def _string_template(source: str) -> Any:
    """Made once per warm Lambda: the subjects are a fixed set (emails.py),
    compiled with the templates when the package was built, and compiling
    one costs more than rendering it."""
    from chalicelib.notify import compiled_templates

    return compiled_templates.from_string(_string_environment(), source)


@functools.cache
def _string_environment() -> Any:
    return string_environment(environment())


def string_environment(env: Any) -> Any:
    """``env`` for one-line templates such as subjects: never autoescaped."""
    return env.overlay(autoescape=False)


def template_names() -> list[str]:
    """Every template, as Jinja2 names it (``de/order_confirmation.html``)."""
    return sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.*"))


__all__ = [
    "TEMPLATES",
    "environment",
    "environment_over",
    "render",
    "render_string",
    "source_environment",
    "string_environment",
    "template_names",
]
