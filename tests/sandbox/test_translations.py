"""Every string of the sandbox's own pages exists in Dutch, Swedish and Danish, placeholders intact."""
import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal.config import ROOT

METHOD_MAP = [("portal/sandbox/**.py", "python"), ("templates/sandbox/**.html", "jinja2")]
OPTIONS = {"templates/sandbox/**.html": {"trimmed": "true"}}


def _sandbox_ids():
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), METHOD_MAP, OPTIONS, keywords={"_": None, "_l": None, "gettext": None}):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


@pytest.mark.parametrize("language", ["nl", "sv", "da"])
def test_sandbox_strings_are_translated(language):
    ids = _sandbox_ids()
    assert len(ids) > 40
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=language)
    for message_id in ids:
        message = catalog.get(message_id)
        assert message is not None and message.string, f"{language}: {message_id!r} is not translated"
        assert "fuzzy" not in message.flags
        assert sorted(re.findall(r"%\(\w+\)s", message.string)) == sorted(re.findall(r"%\(\w+\)s", message_id))
