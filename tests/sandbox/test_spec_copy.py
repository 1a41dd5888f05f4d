"""The project ships a whole copy of the Visma.net OpenAPI description for machines without shared/."""
import hashlib

import pytest

from portal.config import ROOT
from portal.sandbox import spec


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_bundled_copy_is_the_shared_contract_unchanged():
    shared = [p / spec.CONTRACT for p in ROOT.parents if (p / spec.CONTRACT).exists()]
    if not shared:
        pytest.skip("no shared/contracts beside this checkout to compare with")
    assert _digest(spec.BUNDLED) == _digest(shared[0])


def test_the_copy_is_used_when_no_shared_contract_is_found(monkeypatch, tmp_path):
    monkeypatch.delenv("VISMA_NET_OPENAPI", raising=False)
    monkeypatch.setattr(spec, "ROOT", tmp_path / "checkout")
    monkeypatch.setattr(spec, "BUNDLED", ROOT / "contracts" / spec.CONTRACT.name)
    assert spec.spec_path() == ROOT / "contracts" / spec.CONTRACT.name
