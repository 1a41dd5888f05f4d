#!/usr/bin/env python3
"""git merge driver for .po catalogues: the union of both sides' translations.

Register once per clone:  git config merge.po-union.driver "python3 tools/po_merge.py %O %A %B"
(.gitattributes names it for translations/*/LC_MESSAGES/*.po). Where only one side changed a
translation since the common ancestor, that change wins; where both did, ours wins and it is reported.
An entry one side deleted and the other left as it was stays deleted.
"""
import os
import sys

try:
    from babel.messages.pofile import read_po, write_po
except ImportError:  # run by a Python without Babel: use the project's virtual environment
    venv_python = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".venv", "bin", "python")
    os.execv(venv_python, [venv_python, *sys.argv])


def _read(path):
    with open(path, "rb") as handle:
        return read_po(handle)


def main(base_path, ours_path, theirs_path):
    ours, theirs = _read(ours_path), _read(theirs_path)
    try:
        base = _read(base_path)
    except Exception:  # no common ancestor's catalogue (a new file): nothing changed "since base"
        base = None
    for message in theirs:
        if not message.id:
            continue
        mine = ours.get(message.id, message.context)
        before = base.get(message.id, message.context) if base is not None else None
        if mine is None:
            if before is not None and before.string == message.string:
                continue  # our side deleted it and theirs did not change it: it stays deleted
            ours[message.id] = message
        elif not mine.string or (isinstance(mine.string, tuple) and not any(mine.string)):
            mine.string = message.string
        elif mine.string != message.string and message.string:
            if before is not None and mine.string == before.string:
                mine.string = message.string  # only their side changed it: a correction, take it
            else:
                print(f"po-union: kept ours for {message.id!r}", file=sys.stderr)
    if base is not None:
        for message in list(ours):
            before = base.get(message.id, message.context) if message.id else None
            if before is not None and theirs.get(message.id, message.context) is None \
                    and before.string == message.string:
                ours.delete(message.id, context=message.context)  # their side deleted it; ours kept it as it was
    with open(ours_path, "wb") as handle:
        write_po(handle, ours, width=100, sort_output=True, omit_header=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
