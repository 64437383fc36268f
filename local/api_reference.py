"""The human-readable API reference: one static HTML page rendered from the
OpenAPI document, with no script and nothing fetched from elsewhere (it
works offline, in the repo as docs/api.html and from the dev page).

    from local.api_reference import render_reference
    html = render_reference(document)   # document: the OpenAPI dict
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

_METHOD_ORDER = ("get", "post", "put", "patch", "delete")

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d232a;background:#fafafa}
main{max-width:60rem;margin:0 auto;padding:1rem 1.5rem 4rem}
nav{font-size:14px;columns:2}nav a{display:block}
h1{margin-bottom:.2rem}h2{margin-top:2.5rem;border-bottom:1px solid #ccd}
section.op{background:#fff;border:1px solid #dde;border-radius:6px;padding:.4rem 1rem;margin:1rem 0}
code,pre{font:13px/1.4 ui-monospace,monospace}pre{background:#f3f4f6;padding:.6rem;overflow:auto}
.m{display:inline-block;min-width:3.6rem;font-weight:700;text-transform:uppercase}
.get{color:#1a7f37}.post{color:#0b5cad}.put{color:#9a6700}.delete{color:#b42318}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.2rem .5rem;
border-bottom:1px solid #eee;vertical-align:top}
.muted{color:#667}
"""


def render_reference(document: dict[str, Any]) -> str:
    """The whole page for an OpenAPI 3.1 document, as a string."""
    info = document.get("info", {})
    schemas = document.get("components", {}).get("schemas", {})
    schemes = document.get("components", {}).get("securitySchemes", {})
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, methods in document.get("paths", {}).items():
        for method in sorted(methods, key=_method_rank):
            op = methods[method]
            for tag in op.get("tags") or ["other"]:
                by_tag.setdefault(tag, []).append((method, path, op))
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(info.get('title', 'API'))} reference</title>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<style>{_STYLE}</style></head><body><main>",
        f"<h1>{escape(info.get('title', 'API'))} <small class='muted'>"
        f"{escape(info.get('version', ''))}</small></h1>",
        f"<p>{_text(info.get('description', ''))}</p>",
        "<nav>",
        *(
            f"<a href='#{_anchor(op)}'><span class='m {m}'>{m}</span> {escape(p)}</a>"
            for tag in sorted(by_tag)
            for m, p, op in by_tag[tag]
        ),
        "</nav>",
    ]
    for tag in sorted(by_tag):
        parts.append(f"<h2>{escape(tag)}</h2>")
        parts.extend(_operation(m, p, op, schemes) for m, p, op in by_tag[tag])
    parts.append("<h2 id='auth'>Authentication</h2><table>")
    parts.extend(
        f"<tr><td><code>{escape(name)}</code></td><td>{_scheme(s)}</td></tr>"
        for name, s in schemes.items()
    )
    parts.append("</table><h2 id='schemas'>Schemas</h2>")
    parts.extend(_schema(name, schema) for name, schema in schemas.items())
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def _method_rank(method: str) -> int:
    return _METHOD_ORDER.index(method) if method in _METHOD_ORDER else len(_METHOD_ORDER)


def _anchor(op: dict[str, Any]) -> str:
    return f"op-{escape(str(op.get('operationId', '')))}"


def _text(value: str) -> str:
    """Escaped text with `code` spans."""
    pieces = escape(value).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))


def _ref_link(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        return f"<a href='#schema-{escape(name)}'>{escape(name)}</a>"
    return f"<code>{escape(json.dumps(schema, sort_keys=True))}</code>"


def _operation(
    method: str, path: str, op: dict[str, Any], schemes: dict[str, dict[str, Any]]
) -> str:
    rows = [
        f"<section class='op' id='{_anchor(op)}'>",
        f"<h3><span class='m {method}'>{method}</span> <code>{escape(path)}</code></h3>",
        f"<p>{_text(op.get('summary', ''))}</p>",
    ]
    if op.get("description"):
        rows.append(f"<p>{_text(op['description'])}</p>")
    security = [name for alt in op.get("security", []) for name in alt]
    rows.append(
        "<p><b>Auth:</b> "
        + (" or ".join(f"<a href='#auth'>{escape(s)}</a>" for s in security) or "none")
        + "</p>"
    )
    if op.get("parameters"):
        rows.append("<table><tr><th>parameter</th><th>in</th><th>schema</th></tr>")
        rows.extend(
            f"<tr><td><code>{escape(p['name'])}</code>{'' if p.get('required') else ' (optional)'}"
            f"</td><td>{escape(p['in'])}</td><td>{_ref_link(p.get('schema', {}))}"
            f"<br><span class='muted'>{_text(p.get('description', ''))}</span></td></tr>"
            for p in op["parameters"]
        )
        rows.append("</table>")
    body = op.get("requestBody")
    if body:
        for media, content in body.get("content", {}).items():
            optional = "" if body.get("required") else " (optional)"
            rows.append(
                f"<p><b>Body</b>{optional} <code>{escape(media)}</code>: "
                f"{_ref_link(content.get('schema', {}))}</p>"
            )
    rows.append("<table><tr><th>status</th><th>meaning</th><th>body</th></tr>")
    for status, response in op.get("responses", {}).items():
        content = response.get("content", {})
        bodies = ", ".join(
            f"<code>{escape(media)}</code> {_ref_link(c.get('schema', {}))}"
            for media, c in content.items()
        )
        rows.append(
            f"<tr><td>{escape(status)}</td><td>{_text(response.get('description', ''))}</td>"
            f"<td>{bodies}</td></tr>"
        )
    rows.append("</table></section>")
    return "\n".join(rows)


def _scheme(scheme: dict[str, Any]) -> str:
    if scheme.get("type") == "http":
        how = f"<code>Authorization: Bearer &lt;{escape(scheme.get('scheme', ''))}&gt;</code>"
    else:
        how = f"header <code>{escape(scheme.get('name', ''))}</code>"
    return f"{how}: {_text(scheme.get('description', ''))}"


def _schema(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = [
        f"<section class='op' id='schema-{escape(name)}'><h3>{escape(name)}</h3>",
    ]
    if schema.get("description"):
        rows.append(f"<p>{_text(schema['description'])}</p>")
    properties = schema.get("properties", {})
    if properties:
        rows.append("<table><tr><th>field</th><th>type</th><th>notes</th></tr>")
        for field, spec in properties.items():
            flag = "" if field in required else " <span class='muted'>(optional)</span>"
            rows.append(
                f"<tr><td><code>{escape(field)}</code>{flag}</td><td>{_type(spec)}</td>"
                f"<td>{_notes(spec)}</td></tr>"
            )
        rows.append("</table>")
    rows.append("</section>")
    return "\n".join(rows)


def _type(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return _ref_link(spec)
    if "anyOf" in spec:
        return " | ".join(_type(s) for s in spec["anyOf"])
    if spec.get("type") == "array":
        return f"array of {_type(spec.get('items', {}))}"
    if "enum" in spec:
        return " | ".join(f"<code>{escape(json.dumps(v))}</code>" for v in spec["enum"])
    if "const" in spec:
        return f"<code>{escape(json.dumps(spec['const']))}</code>"
    kind = str(spec.get("type", "any"))
    if spec.get("format"):
        kind += f" ({spec['format']})"
    return escape(kind)


_CONSTRAINTS = (
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "default",
)


def _notes(spec: dict[str, Any]) -> str:
    notes = [_text(spec["description"])] if spec.get("description") else []
    notes.extend(
        f"{key} <code>{escape(json.dumps(spec[key]))}</code>" for key in _CONSTRAINTS if key in spec
    )
    return "; ".join(notes)
