"""Translation completeness: every string of the code and templates in Dutch, Swedish and Danish, none
fuzzy, with the same placeholders as the English; and the ``flask translate`` commands work."""
import re
import shutil

import pytest
from babel.messages.pofile import read_po

from portal.config import ROOT

LANGUAGES = ["nl", "sv", "da"]
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]|%[-#0 +]*\d*(?:\.\d+)?[sdifrx]"
                         r"|\{[A-Za-z_0-9.\[\]]*(?:![rsa])?(?::[^{}]*)?\}")


def _catalogue(language):
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)


def _texts(value):
    return [v for v in value if v] if isinstance(value, (tuple, list)) else [value]


def placeholders(text):
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The strings in the code and templates now, extracted by the same command the developers use."""
    from portal import create_app
    from portal.config import TestConfig
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    app = create_app(TestConfig)
    result = app.test_cli_runner().invoke(args=["translate", "extract", "--output", str(pot)])
    assert result.exit_code == 0, result.output
    with open(pot, "rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(handle) if m.id}


def test_placeholder_pattern_finds_every_kind():
    assert placeholders("%(n)d of %(total)s, %d and %s, {name} {0:>3}, 100%%") == \
        sorted(["%(n)d", "%(total)s", "%d", "%s", "{name}", "{0:>3}"])


def test_extraction_finds_strings_of_code_and_templates(extracted):
    assert "Sign in" in extracted                      # a template
    assert "Unknown role." in extracted                # Python, lazy_gettext
    assert "You may not open this page" in extracted   # Python, gettext


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_in_the_code_is_in_the_catalogue(extracted, language):
    catalogue = _catalogue(language)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id}
    missing = sorted(set(extracted) - ids)
    assert not missing, (f"{language}: strings not in the catalogue; run `flask --app app translate update` "
                         f"and translate them: {missing}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_not_fuzzy(language):
    problems = []
    for message in _catalogue(language):
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if not all(_texts(message.string)) or not _texts(message.string):
            problems.append(f"empty: {message.id!r}")
    assert not problems, f"{language}:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match_the_english(language):
    problems = []
    for message in _catalogue(language):
        if not message.id:
            continue
        forms = [message.id] if isinstance(message.id, str) else list(message.id)
        for index, text in enumerate(_texts(message.string)):
            # A plural entry: the first form answers the English singular, the others the plural
            # (nl, sv and da have two forms; "the next request" may leave the number out).
            english = forms[min(index, len(forms) - 1)]
            if placeholders(text) != placeholders(english):
                problems.append(f"{english!r}: {placeholders(english)} vs {text!r}: {placeholders(text)}")
    assert not problems, f"{language}:\n" + "\n".join(problems)


def test_compile_command_builds_mo_files(tmp_path, app):
    target = tmp_path / "translations"
    shutil.copytree(ROOT / "translations", target, ignore=shutil.ignore_patterns("*.mo"))
    result = app.test_cli_runner().invoke(args=["translate", "compile", "--directory", str(target)])
    assert result.exit_code == 0, result.output
    for language in LANGUAGES:
        assert (target / language / "LC_MESSAGES" / "messages.mo").stat().st_size > 0


def test_update_command_adds_new_strings_empty_and_keeps_translations(tmp_path, app):
    from babel.messages.pofile import write_po
    target = tmp_path / "translations"
    shutil.copytree(ROOT / "translations", target, ignore=shutil.ignore_patterns("*.mo"))
    po = target / "nl" / "LC_MESSAGES" / "messages.po"
    with open(po, "rb") as handle:
        catalogue = read_po(handle, locale="nl")
    del catalogue["Unknown role."]          # as if the string were new in the code
    with open(po, "wb") as handle:
        write_po(handle, catalogue)
    result = app.test_cli_runner().invoke(args=["translate", "update", "--directory", str(target)])
    assert result.exit_code == 0, result.output
    with open(po, "rb") as handle:
        updated = read_po(handle, locale="nl")
    assert updated["Unknown role."].string == ""            # to be translated
    assert updated["Sign in"].string == "Inloggen"          # kept
    assert (target / "messages.pot").exists()


def test_babel_cfg_trims_template_whitespace():
    config = (ROOT / "babel.cfg").read_text()
    assert "[jinja2: templates/**.html]" in config and "trimmed = true" in config


def test_mo_files_are_not_committed():
    assert "*.mo" in (ROOT / ".gitignore").read_text().split()


# Different things in the portal's words must not share a word in a translation (GLOSSARY.md).
# (first, second, message context): the operations carry the context "operation" in the code.
DISTINCT = [("Department", "Branch", None), ("Cost centres", "Cost units", None),
            ("Prepare", "Export", "operation"), ("Test", "Production", None),
            ("Journal entries", "Payments", None)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_different_terms_keep_different_words(language):
    catalogue = _catalogue(language)
    for first, second, context in DISTINCT:
        one, other = catalogue.get(first, context), catalogue.get(second, context)
        assert one is not None and other is not None, (first, second, context)
        assert one.string.casefold() != other.string.casefold(), (first, second)


# GLOSSARY.md: the user's word for a run is "export" ("run" is DESIGN.md's word inside the code). What
# still says "run" is a verb, GLOSSARY's own terms (Run at, Last run exports) or the payroll run of an
# Nmbrs journal (seed 002); a placeholder such as %(run)s is not a word on the screen.
RUN_KEPT = re.compile(r"\bRun at\b|\bLast run exports\b|\bpayroll run\b|\brun period\b|\bhas not run\b"
                      r"|\b(?:export|schedule) runs\b|\bruns (?:at|once)\b", re.I)
RUN_WORD = {"en": re.compile(r"\bruns?\b", re.I), "nl": re.compile(r"\w*run\b", re.I),
            "sv": re.compile(r"(?<!löne)körning", re.I), "da": re.compile(r"(?<!løn)kørsel", re.I)}


def test_no_screen_calls_an_export_a_run(extracted):
    def said(text):
        return RUN_KEPT.sub("", PLACEHOLDER.sub("", text))

    problems = [f"en: {text!r}" for message in extracted.values()
                for text in ([message.id] if isinstance(message.id, str) else message.id)
                if RUN_WORD["en"].search(said(text))]
    for language in LANGUAGES:   # the entries in use (a merge of the catalogues keeps unused ones)
        problems += [f"{language}: {text!r}" for message in _catalogue(language) if message.id
                     and (message.id if isinstance(message.id, str) else message.id[0]) in extracted
                     for text in _texts(message.string) if RUN_WORD[language].search(said(text))]
    assert not problems, "\n".join(problems)
