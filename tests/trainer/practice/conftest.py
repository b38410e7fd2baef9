import pytest

from trainer.bank.schema import ItemIn
from trainer.bank.services import bank_import, blueprints_load, tracks_load

RATIONALE_MARK = "RATIONALE-SECRET"


def single_item(n: int, domain: str = "networking", track: str = "CDIP") -> ItemIn:
    return ItemIn.model_validate(
        {
            "id": f"p-{domain}-{n:03d}",
            "type": "single",
            "stem": f"Question {n} about {domain}: which option is number two?",
            "options": [
                {"text": f"one {n}", "rationale": f"{RATIONALE_MARK} one is not two"},
                {"text": f"two {n}", "correct": True, "rationale": f"{RATIONALE_MARK} two is two"},
                {"text": f"three {n}", "rationale": f"{RATIONALE_MARK} three is not two"},
                {"text": f"four {n}", "rationale": f"{RATIONALE_MARK} four is not two"},
            ],
            "rationale": f"{RATIONALE_MARK} the key is two",
            "references": [{"standard": "DICOM PS3.7", "section": "Annex C"}],
            "domains": [{"track": track, "domain": domain}],
            "status": "published",
        }
    )


@pytest.fixture
def bank(db):
    tracks_load()
    blueprints_load()
    items = [single_item(n, d) for d in ("networking", "dicomweb") for n in range(8)]
    bank_import(items=items)
    return items
