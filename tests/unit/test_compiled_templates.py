"""The email templates compiled at packaging time (chalicelib/notify/
compiled_templates.py): every template compiles, every email (both locales,
HTML, text and subject) and every legal text renders the same from the
compiled modules as from the sources, and a compiled set that is missing,
stale or from another Jinja2 is not used."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import jinja2
import pytest

from chalicelib.notify import compiled_templates, precompile, render
from chalicelib.notify import emails as catalogue
from chalicelib.notify.compiled_templates import MANIFEST, CompiledLoader
from chalicelib.notify.formatting import LOCALES
from local.email_samples import DETAIL_TYPES, sample, secrets
from tests.unit.test_legal_templates import KINDS as LEGAL_KINDS
from tests.unit.test_legal_templates import WITHDRAWAL_URL, Seller


class Recording(jinja2.BaseLoader):
    """Another loader, noting the name of every template loaded through it."""

    def __init__(self, inner: jinja2.BaseLoader) -> None:
        self.inner = inner
        self.loaded: set[str] = set()

    def load(self, environment: Any, name: str, globals: Any = None) -> jinja2.Template:
        self.loaded.add(name)
        return self.inner.load(environment, name, globals)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("templates_compiled")
    precompile.compile_emails(directory)
    return directory


def compiled_environment(directory: Path, templates: Path = render.TEMPLATES) -> Any:
    source = jinja2.FileSystemLoader(templates)
    return render.environment_over(compiled_templates.loader(source, directory))


def everything_rendered(env: Any, shop: catalogue.Shop, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Every email of every sample event in both locales, and every legal
    text in both locales and formats, rendered in ``env``."""
    monkeypatch.setattr(render, "environment", lambda: env)
    forget_subjects()
    out: dict[tuple[str, ...], Any] = {}
    for detail_type in DETAIL_TYPES:
        for locale in LOCALES:
            detail = catalogue.parse(detail_type, sample(detail_type, locale))
            reader = replace(shop, merchant_locale=locale)
            for email in catalogue.emails_for(detail_type, detail, reader, secrets(detail_type)):
                key = (detail_type, email.kind, locale)
                out[key] = (email.subject, email.html, email.text)
    for locale in LOCALES:
        for kind in LEGAL_KINDS:
            for ext in ("html", "txt"):
                context = {"shop": Seller(), "withdrawal_url": WITHDRAWAL_URL, "locale": locale}
                template = env.get_template(f"legal/{locale}/{kind}.{ext}")
                out[("legal", kind, locale, ext)] = template.render(
                    {**context, "returns_paid_by_shop": False}
                )
    forget_subjects()
    return out


def forget_subjects() -> None:
    render._string_template.cache_clear()
    render._string_environment.cache_clear()


SUBJECTS = sorted({source for kind in catalogue.KINDS.values() for source in kind.subject.values()})


def test_every_template_and_subject_compiles_into_the_set(compiled: Path) -> None:
    manifest = json.loads((compiled / MANIFEST).read_text())

    assert sorted(manifest["templates"]) == render.template_names()
    assert manifest["strings"] == sorted(compiled_templates.string_name(s) for s in SUBJECTS)
    assert manifest["jinja2"] == jinja2.__version__
    for name in [*manifest["templates"], *manifest["strings"]]:
        assert (compiled / jinja2.ModuleLoader.get_module_filename(name)).is_file(), name


def test_every_email_and_legal_text_renders_the_same_compiled_as_from_source(
    compiled: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = catalogue.Shop.from_settings(settings)
    recording = Recording(
        compiled_templates.loader(jinja2.FileSystemLoader(render.TEMPLATES), compiled)
    )
    from_modules = render.environment_over(recording)
    assert isinstance(recording.inner, CompiledLoader)

    expected = everything_rendered(render.source_environment(), shop, monkeypatch)
    actual = everything_rendered(from_modules, shop, monkeypatch)

    assert actual == expected
    # Every email kind in both locales, and every template by some email or
    # legal text: a template none of them reaches needs a sample that does.
    assert {(kind, locale) for _, kind, locale, *_ in expected} >= {
        (kind, locale) for kind in catalogue.KINDS for locale in LOCALES
    }
    assert recording.loaded == set(render.template_names())
    for template in from_modules.cache.values():
        assert Path(template.filename).parent == compiled, template.name


def test_every_subject_comes_from_its_compiled_module_and_a_new_one_compiles(
    compiled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "environment", lambda: compiled_environment(compiled))
    forget_subjects()
    values = {"order": {"number": "K7Q"}, "shop": {"name": "Tee"}, "data": {"kind": "due"}}

    try:
        for source in SUBJECTS:
            assert Path(render._string_template(source).filename).parent == compiled, source
        new = render._string_template("Neu: {{ order.number }} <{{ shop.name }}>")
        assert new.filename == "<template>"  # compiled now, from the source
        assert render.render_string("Neu: {{ order.number }} <{{ shop.name }}>", "de", values) == (
            "Neu: K7Q <Tee>"
        )
    finally:
        forget_subjects()


def test_a_template_changed_since_compiling_renders_from_its_source(
    tmp_path: Path,
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES, templates)
    directory = tmp_path / "compiled"
    compiled_templates.compile_all(
        render.environment_over(jinja2.FileSystemLoader(templates)), directory
    )
    (templates / "base.txt").write_text("changed {% block body %}{% endblock %}\n")

    env = compiled_environment(directory, templates)

    assert env.get_template("base.txt").render() == "changed "
    assert Path(env.get_template("_macros.txt").filename).parent == directory


def test_no_compiled_set_means_the_sources(tmp_path: Path) -> None:
    source = jinja2.FileSystemLoader(render.TEMPLATES)

    assert compiled_templates.loader(source, tmp_path / "absent") is source


def test_a_set_compiled_by_another_jinja2_is_not_used(compiled: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(compiled, other)
    manifest = json.loads((other / MANIFEST).read_text())
    (other / MANIFEST).write_text(json.dumps({**manifest, "jinja2": "2.11.3"}))
    source = jinja2.FileSystemLoader(render.TEMPLATES)

    assert compiled_templates.loader(source, other) is source


def test_a_template_that_does_not_compile_fails_the_set(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "broken.txt").write_text("{% if %}\n")

    with pytest.raises(jinja2.TemplateSyntaxError):
        compiled_templates.compile_all(
            render.environment_over(jinja2.FileSystemLoader(templates)), tmp_path / "compiled"
        )
