"""One word for one thing in each language: Visma.net's *branch* (where a company's exports go) is never
called by the word for a *department* (our own departments, whose finance system routes payments) —
the wizard, the row error and the audit sentence all say the same."""
import pytest
from babel.messages.pofile import read_po

from portal.config import ROOT

# English word → the word every language uses for it, and the word that means something else there.
BRANCH = {"nl": ("vestiging", "afdeling"), "sv": ("filial", "avdelning"), "da": ("filial", "afdeling")}


def _entries(locale):
    with open(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        for message in read_po(handle, locale=locale):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            texts = message.string if isinstance(message.string, tuple) else (message.string,)
            yield ids[0], texts


@pytest.mark.parametrize("locale", sorted(BRANCH))
def test_branch_has_one_word_in_every_language(locale):
    word, other = BRANCH[locale]
    about_branches = [(msgid, texts) for msgid, texts in _entries(locale) if "branch" in msgid.lower()]
    assert len(about_branches) >= 5
    wrong = [(msgid, text) for msgid, texts in about_branches for text in texts
             if word not in text.lower() or other in text.lower()]
    assert wrong == []
