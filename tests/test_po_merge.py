"""tools/po_merge.py, the git merge driver of the catalogues: the union of both sides' entries, except what
one side deleted and the other left as it was (a rebase put 19 deleted entries back), and one side's
change of a translation wins over the other's unchanged one."""
import importlib.util
from pathlib import Path

HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'


def _po(path, entries):
    path.write_text(HEADER + "".join(f'\nmsgid "{k}"\nmsgstr "{v}"\n' for k, v in entries.items()))
    return str(path)


def test_deleted_entries_stay_deleted_and_changes_and_additions_are_kept(tmp_path):
    spec = importlib.util.spec_from_file_location("po_merge", Path(__file__).parent.parent / "tools" / "po_merge.py")
    po_merge = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(po_merge)
    base = _po(tmp_path / "base.po", {"A": "a", "B": "b", "C": "c"})
    ours = _po(tmp_path / "ours.po", {"A": "a", "C": "c", "D": "d"})        # ours deleted B, added D
    theirs = _po(tmp_path / "theirs.po", {"B": "b", "C": "c2", "E": "e"})  # theirs deleted A, changed C
    assert po_merge.main(base, ours, theirs) == 0
    merged = {m.id: m.string for m in po_merge._read(ours) if m.id}
    assert merged == {"C": "c2", "D": "d", "E": "e"}
