from trainer.bank.linter import blueprint_coverage, key_position_balance, lint_bank, lint_item, near_duplicate_stems
from trainer.bank.schema import ItemIn


def make(**over):
    base = {
        "id": "x-1",
        "type": "single",
        "stem": "Which port is registered for DICOM?",
        "options": [
            {"text": "104", "correct": True, "rationale": "IANA registered port 104 for DICOM."},
            {"text": "80", "rationale": "HTTP."},
            {"text": "443", "rationale": "HTTPS."},
            {"text": "2575", "rationale": "HL7 MLLP."},
        ],
        "rationale": "Port 104.",
        "references": [{"standard": "DICOM PS3.8", "section": "9.1"}],
        "domains": [{"track": "CDIP", "domain": "networking"}],
        "status": "published",
    }
    base.update(over)
    return ItemIn.model_validate(base)


def rules(item):
    return {f.rule for f in lint_item(item)}


def test_a_clean_item_has_no_findings():
    assert lint_item(make()) == []


def test_missing_rationales_and_references_are_errors():
    item = make(
        rationale="",
        references=[],
        options=[{**o, "rationale": ""} if i == 2 else o for i, o in enumerate(make().model_dump()["options"])],
    )
    found = lint_item(item)
    assert {f.rule for f in found if f.severity == "error"} == {"missing-rationale", "missing-reference"}
    assert any("option C" in f.message for f in found)


def test_wrong_option_count_and_all_of_the_above():
    opts = make().model_dump()["options"][:3]
    assert "option-count" in rules(make(options=opts))
    opts = make().model_dump()["options"]
    opts[3]["text"] = "All of the above"
    assert "all-none-of-the-above" in rules(make(options=opts))


def test_negative_stems_must_be_emphasised():
    assert "negative-stem" in rules(make(stem="Which port is not used by DICOM?"))
    assert "negative-stem" not in rules(make(stem="Which port is **NOT** used by DICOM?"))
    # a negative in the scenario, outside the question sentence, is fine
    assert "negative-stem" not in rules(make(stem="The echo did not work.\n\nWhich port is registered for DICOM?"))


def test_absolute_words_only_in_distractors_and_a_conspicuously_long_key_are_flagged():
    opts = make().model_dump()["options"]
    opts[1]["text"] = "It always uses port 80"
    assert "absolute-words" in rules(make(options=opts))
    opts = make().model_dump()["options"]
    opts[0]["text"] = "Port 104, the port registered with IANA for DICOM upper-layer traffic"
    assert "key-longest" in rules(make(options=opts))


def test_key_position_balance_flags_a_bank_that_favours_one_position():
    items = [make(id=f"k-{i}") for i in range(20)]  # key always at A
    shares, findings = key_position_balance(items)
    assert shares["A"] == 1.0
    assert {f.message.split(" ")[4] for f in findings} == {"A", "B", "C", "D"}


def test_near_duplicate_stems_are_found_and_different_ones_are_not():
    a = make(id="d-1", stem="Which TCP port is registered for DICOM communication?")
    b = make(id="d-2", stem="Which TCP port is registered for DICOM communications?")
    c = make(id="d-3", stem="What does a C-MOVE destination unknown status mean?")
    found = near_duplicate_stems([a, b, c])
    assert [(f.item, f.message.split()[-1]) for f in found] == [("d-1", "d-2")]


def test_blueprint_coverage_counts_published_items_per_domain():
    items = [make(id=f"b-{i}") for i in range(3)] + [make(id="b-draft", status="draft")]
    findings = blueprint_coverage(items, [("bp", "CDIP", {"networking": 2, "dicomweb": 1})])
    by_domain = {f.message.split(" ")[1]: f.severity for f in findings}
    assert by_domain == {"CDIP/networking": "warning", "CDIP/dicomweb": "error"}


def test_retired_items_are_not_linted():
    report = lint_bank([make(rationale="", status="retired")])
    assert report.errors == []


def test_negations_in_scenarios_parentheses_or_statements_are_not_negative_stems():
    assert "negative-stem" not in rules(make(stem="The echo does not work. Which port is registered for DICOM?"))
    assert "negative-stem" not in rules(make(stem="How many PDUs are needed (the command is not counted)?"))
    assert "negative-stem" not in rules(make(stem="Which change best applies the principle of least privilege?"))
    assert "negative-stem" in rules(make(stem="All of these ports may carry DICOM EXCEPT which one?"))
    assert "negative-stem" in rules(make(stem="Which option is LEAST likely to help?"))


def test_options_that_differ_only_in_punctuation_are_not_duplicates():
    opts = make().model_dump()["options"]
    opts[1]["text"], opts[2]["text"] = "2026-03-05", "20260305"
    assert "duplicate-options" not in rules(make(options=opts))
