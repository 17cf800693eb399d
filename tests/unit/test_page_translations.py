"""The verification page's Babel catalogue: every message of the page's code and templates has a
Chinese translation, none is left over, and the committed .mo says what its .po says."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "identity" / "web"
PO = WEB / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}


def messages_in_the_code() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(WEB), METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_of_the_page_is_translated_and_none_is_left_over() -> None:
    catalogue = read_po(PO.open("rb"))
    translated = {m.id for m in catalogue if m.id and m.string}
    in_code = messages_in_the_code()
    assert len(in_code) > 50  # the scan itself found the page's messages
    assert in_code - translated == set(), "untranslated: run scripts/translations and translate the .po"
    assert {m.id for m in catalogue if m.id} - in_code == set(), "obsolete entries: run scripts/translations"
    assert not any(m.fuzzy for m in catalogue if m.id)


def test_the_committed_mo_is_compiled_from_the_po() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, read_po(PO.open("rb")))
    expected = {m.id: m.string for m in read_mo(io.BytesIO(compiled.getvalue())) if m.id}
    committed = {m.id: m.string for m in read_mo(MO.open("rb")) if m.id}
    assert committed == expected, "run scripts/translations (pybabel compile) and commit the .mo"


def test_the_document_types_are_named_as_people_know_them() -> None:
    strings = {m.id: m.string for m in read_po(PO.open("rb"))}
    assert strings["Resident Identity Card"] == "居民身份证"
    assert strings["Mainland Travel Permit for Hong Kong and Macao Residents"] == "港澳居民来往内地通行证"
    assert strings["Mainland Travel Permit for Taiwan Residents"] == "台湾居民来往大陆通行证"
    assert strings["Passport"] == "护照"


def test_pip_installs_every_file_the_page_serves() -> None:
    """Templates, stylesheet, icon and compiled catalogue ship in the package (pyproject's package-data)."""
    import fnmatch
    import tomllib

    patterns = tomllib.loads((WEB.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]["*"]
    served = [p for folder in ("templates", "static", "translations") for p in (WEB / folder).rglob("*")
              if p.is_file() and p.suffix != ".pot"]
    assert served and MO in served
    assert [p.name for p in served if not any(fnmatch.fnmatch(p.name, pattern) for pattern in patterns)] == []
