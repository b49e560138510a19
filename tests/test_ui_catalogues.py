"""UI texts: one catalogue per language, the same keys in each, and every key the code uses."""

from __future__ import annotations

import json
import re

import pytest

from pantau.web.ui import LANGUAGES, LOCALES, STATIC, CatalogueError, catalogue

# t("key") or t('key') in the UI's modules; keys built at run time use a literal prefix.
T_CALL = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']""")


def used_keys() -> dict[str, str]:
    found = {}
    for path in STATIC.rglob("*.js"):
        for key in T_CALL.findall(path.read_text(encoding="utf-8")):
            found[key] = path.name
    return found


def test_every_language_has_the_same_keys() -> None:
    keys = {lang: set(catalogue(lang)) for lang in LANGUAGES}
    base = keys[LANGUAGES[0]]
    for lang, k in keys.items():
        assert k == base, f"{lang}: missing {sorted(base - k)}, extra {sorted(k - base)}"
    assert len(base) > 30


def test_each_page_has_a_catalogue_file_in_each_language() -> None:
    for lang in LANGUAGES:
        names = {p.name for p in (LOCALES / lang).glob("*.json")}
        assert names == {p.name for p in (LOCALES / LANGUAGES[0]).glob("*.json")}


def test_every_key_the_code_uses_exists() -> None:
    texts = catalogue("id")
    missing = {k: f for k, f in used_keys().items() if k not in texts}
    assert not missing, f"t() keys with no text: {missing}"


def test_placeholders_match_between_languages() -> None:
    ph = re.compile(r"\{(\w+)\}")
    ref = catalogue(LANGUAGES[0])
    for lang in LANGUAGES[1:]:
        for key, text in catalogue(lang).items():
            assert set(ph.findall(text)) == set(ph.findall(ref[key])), (lang, key)


def test_a_key_defined_twice_is_refused(tmp_path, monkeypatch) -> None:
    import pantau.web.ui as ui

    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "a.json").write_text(json.dumps({"k": "one"}))
    (tmp_path / "xx" / "b.json").write_text(json.dumps({"k": "two"}))
    monkeypatch.setattr(ui, "LOCALES", tmp_path)
    ui.catalogue.cache_clear()
    try:
        with pytest.raises(CatalogueError, match=r"'k' is already defined in a\.json"):
            ui.catalogue("xx")
    finally:
        ui.catalogue.cache_clear()


def test_ui_routes_serve_no_data_and_unknown_languages_are_refused(client) -> None:
    client.cookies.clear()
    assert client.get("/", follow_redirects=False).headers["location"] == "/ui/"
    assert "app.js" in client.get("/ui/").text
    config = client.get("/ui/config.json").json()
    assert config["timezone"] == "Asia/Makassar" and config["timezone_label"] == "WITA"
    assert config["vendor_missing"] == [], "run scripts/bootstrap (npm ci of the UI libraries)"
    assert client.get("/ui/i18n/id.json").json()["login.submit"] == "Masuk"
    r = client.get("/ui/i18n/fr.json")
    assert r.status_code == 404 and "use one of" in r.json()["message"]
    assert client.get("/ui/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/ui/vendor/hls/hls.min.js").status_code == 200
