import pytest

from trainer.bank.services import blueprints_load, tracks_load


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
