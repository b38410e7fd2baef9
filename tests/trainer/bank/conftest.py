import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import InstructorFactory
from trainer.accounts.models import User
from trainer.bank.models import Item, ItemVersion
from trainer.bank.services import blueprints_load, item_submit, tracks_load


@pytest.fixture
def tracks(db):
    tracks_load()
    blueprints_load()


SAMPLE = """\
schema: pacs-trainer-bank/1
items:
  - id: t-echo-001
    type: single
    stem: |
      Which DIMSE service verifies that two DICOM AEs can talk to each other?
    options:
      - {text: C-FIND, rationale: C-FIND queries for matches.}
      - {text: C-ECHO, correct: true, rationale: C-ECHO is the Verification service.}
      - {text: C-MOVE, rationale: C-MOVE asks for instances to be sent elsewhere.}
      - {text: N-ACTION, rationale: N-ACTION asks a peer to perform an action.}
    rationale: The Verification SOP Class uses C-ECHO.
    references:
      - {standard: DICOM PS3.4, section: A.4, title: Verification SOP Class}
    domains:
      - {track: CDIP, domain: networking}
      - {track: CIIP, domain: image-management}
    tags: [verification, dimse]
    difficulty: easy
    level: recall
    status: published
    history:
      - {action: drafted, by: alice, date: 2026-11-20}
      - {action: reviewed, by: bob, date: 2026-11-21, blind_answer: [1], verdict: accepted, notes: ok}
  - id: t-size-001
    type: numeric
    stem: A CT series has 200 images of 512 x 512 pixels at 2 bytes per pixel. How many MiB of pixel data?
    answer: 100
    tolerance: 0.5
    unit: MiB
    rationale: 512 x 512 x 2 = 524288 bytes = 0.5 MiB per image; x 200 = 100 MiB.
    references:
      - {standard: DICOM PS3.5, section: "8.1.1"}
    domains:
      - {track: CIIP, domain: image-management}
    tags: [arithmetic]
    level: application
    status: draft
    history:
      - {action: drafted, by: carol, date: 2026-11-22}
"""


@pytest.fixture
def sample(tracks):
    """The two SAMPLE items, imported (t-echo-001 published, t-size-001 a draft by 'carol')."""
    from trainer.bank.services import bank_import_text

    bank_import_text(text=SAMPLE, fmt="native")


def item_post(**fields):
    """POST data for the authoring form: a valid single-answer item unless ``fields`` say otherwise.
    ``options``: list of (text, correct, rationale); ``pairs``: list of (prompt, answer, rationale)."""
    options = fields.pop(
        "options",
        [
            ("C-FIND", False, "C-FIND queries for matches."),
            ("C-ECHO", True, "C-ECHO is the Verification service."),
            ("C-MOVE", False, "C-MOVE asks for instances to be sent elsewhere."),
            ("N-ACTION", False, "N-ACTION asks a peer to perform an action."),
        ],
    )
    pairs = fields.pop("pairs", [])
    references = fields.pop("references", [("DICOM PS3.4", "A.4", "Verification SOP Class", "")])
    data = {
        "external_id": "ui-echo-001",
        "type": "single",
        "stem": "Which DIMSE service checks that two application entities can associate and talk?",
        "rationale": "The Verification SOP Class uses C-ECHO.",
        "answer": "",
        "tolerance": "",
        "unit": "",
        "primary_domain": "CDIP/networking",
        "domains": ["CIIP/image-management"],
        "tags": "verification, dimse",
        "difficulty": "easy",
        "level": "recall",
        "image_alt": "",
        "opt-TOTAL_FORMS": "6",
        "opt-INITIAL_FORMS": "0",
        "pair-TOTAL_FORMS": "8",
        "pair-INITIAL_FORMS": "0",
        "ref-TOTAL_FORMS": "3",
        "ref-INITIAL_FORMS": "0",
    }
    for i in range(6):
        text, correct, why = options[i] if i < len(options) else ("", False, "")
        data[f"opt-{i}-text"] = text
        data[f"opt-{i}-rationale"] = why
        if correct:
            data[f"opt-{i}-correct"] = "on"
    for i in range(8):
        prompt, answer, why = pairs[i] if i < len(pairs) else ("", "", "")
        data.update({f"pair-{i}-prompt": prompt, f"pair-{i}-answer": answer, f"pair-{i}-rationale": why})
    for i in range(3):
        std, section, title, url = references[i] if i < len(references) else ("", "", "", "")
        data.update(
            {f"ref-{i}-standard": std, f"ref-{i}-section": section, f"ref-{i}-title": title, f"ref-{i}-url": url}
        )
    data.update(fields)
    return data


def instructor_named(username: str) -> User:
    return InstructorFactory(username=username)


def current(item: Item) -> ItemVersion:
    """The item's current version, fresh from the database."""
    item.refresh_from_db()
    assert item.current_version is not None
    return item.current_version


@pytest.fixture
def submitted(tracks, instructor, instructor_client: Client) -> Item:
    """An item written by ``instructor`` (ines) and submitted for review."""
    assert instructor_client.post(reverse("bank:item-new"), item_post()).status_code == 302
    item = Item.objects.get(external_id="ui-echo-001")
    item_submit(item=item, by=instructor)
    return item
