"""The citizens' page without a browser: served, self-contained, labelled, fully translated."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from features.schema import Channel, OfficeMode
from serving.advice import AdviceKind, AdviceSettings, Residency
from serving.app import create_app
from serving.routes.pages import STATIC_DIR
from tests.serving.support import settings_for

CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".html": ("text/html",),
}
IMPORT = re.compile(r"""^import\s[^;]*?from\s+"\./([\w.-]+\.js)";""", re.M | re.S)
T_CALL = re.compile(r"""\bt\(\s*"([a-z0-9_]+)\"""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Keys built at run time from a domain value: prefix → the values it takes.
DYNAMIC_KEYS: dict[str, list[str]] = {
    "channel_": list(Channel),
    "mode_": list(OfficeMode),
    "advice_": list(AdviceKind),
    "residency_": list(Residency),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app with an empty registry: the page needs no model."""
    registry = tmp_path_factory.mktemp("empty") / "registry"
    with TestClient(create_app(settings_for(registry)), raise_server_exceptions=False) as c:
        yield c


def strings() -> dict[str, dict[str, object]]:
    """The STRINGS object of i18n.js (a JSON literal)."""
    text = (STATIC_DIR / "i18n.js").read_text("utf-8")
    start, end = text.index("{", text.index("STRINGS")), text.rindex("}")
    return json.loads(text[start : end + 1])


def scripts() -> dict[str, str]:
    return {p.name: p.read_text("utf-8") for p in STATIC_DIR.glob("*.js")}


class _Page(HTMLParser):
    """Collects the page's assets, i18n keys, form controls and labels."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.keys: set[str] = set()
        self.controls: list[tuple[str, str | None, bool]] = []  # tag, id, inside a label
        self.label_for: set[str] = set()
        self._labels = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("src", "href"):
            value = a.get(name) or ""
            if value.startswith("/static/"):
                self.assets.append(value)
        self.keys |= {v for k, v in a.items() if k.startswith("data-i18n") and v}
        if tag == "label":
            self._labels += 1
            if a.get("for"):
                self.label_for.add(str(a["for"]))
        if tag in ("input", "select", "textarea"):
            self.controls.append((tag, a.get("id"), self._labels > 0))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._labels -= 1


def parsed_page() -> _Page:
    page = _Page()
    page.feed((STATIC_DIR / "index.html").read_text("utf-8"))
    return page


def test_root_serves_the_page(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/app.js">' in response.text


def test_every_asset_is_served_with_its_content_type_and_every_script_is_used(
    client: TestClient,
) -> None:
    wanted = set(parsed_page().assets)
    sources = scripts()
    reached, todo = set(), ["app.js"]
    while todo:
        name = todo.pop()
        reached.add(name)
        todo += [m for m in IMPORT.findall(sources[name]) if m not in reached]
    wanted |= {f"/static/{name}" for name in reached}
    assert reached == set(sources), "a script nobody imports, or an import of a missing one"
    assert {"/static/app.css", "/static/app.js", "/static/i18n.js"} <= wanted
    for path in sorted(wanted):
        response = client.get(path)
        assert response.status_code == 200, path
        kinds = CONTENT_TYPES[Path(path).suffix]
        assert response.headers["content-type"].startswith(kinds), path


def test_the_page_loads_nothing_from_elsewhere() -> None:
    external = re.compile(r"https?:|(src|href)\s*=\s*[\"']//|url\(\s*[\"']?(https?:)?//|@import")
    for path in sorted(STATIC_DIR.iterdir()):
        text = path.read_text("utf-8")
        assert not external.search(text), f"{path.name}: {external.search(text)}"


def test_both_languages_have_every_key_with_the_same_placeholders() -> None:
    table = strings()
    assert set(table) == {"zh", "en"}
    assert set(table["zh"]) == set(table["en"])
    for key, en in table["en"].items():
        zh = table["zh"][key]
        assert type(zh) is type(en) and zh and en, key
        if isinstance(en, str):
            assert isinstance(zh, str)
            assert set(PLACEHOLDER.findall(zh)) == set(PLACEHOLDER.findall(en)), key
        else:
            assert isinstance(en, list) and isinstance(zh, list) and len(zh) == len(en), key


def test_every_key_the_page_uses_is_translated() -> None:
    known = set(strings()["en"])
    used = parsed_page().keys
    for text in scripts().values():
        used |= set(T_CALL.findall(text))
    used |= {prefix + value for prefix, values in DYNAMIC_KEYS.items() for value in values}
    assert used - known == set()
    assert len(used) > 40  # the scan found the page's texts


def test_every_key_is_used() -> None:
    page = (STATIC_DIR / "index.html").read_text("utf-8")
    code = "".join(text for name, text in scripts().items() if name != "i18n.js") + page
    dynamic = tuple(DYNAMIC_KEYS)
    unused = {
        key for key in strings()["en"] if f'"{key}"' not in code and not key.startswith(dynamic)
    }
    assert unused == set()


def test_every_form_control_has_a_label() -> None:
    page = parsed_page()
    assert page.controls
    for tag, control_id, wrapped in page.controls:
        assert wrapped or control_id in page.label_for, f"<{tag} id={control_id}> has no label"


def test_the_risk_mark_uses_the_advices_threshold() -> None:
    source = (STATIC_DIR / "heatmap.js").read_text("utf-8")
    found = re.search(r"export const RISKY_BELOW = ([0-9.]+);", source)
    assert found and float(found.group(1)) == AdviceSettings().min_p_called
