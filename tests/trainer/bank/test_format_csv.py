"""CSV: the documented header, quoting, BOM, blank lines, packed cells, located problems."""

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from tests.trainer.bank.format_samples import all_types, by_id, sample_bytes
from trainer.bank.formats import get_format
from trainer.bank.formats.csv_format import dump_csv, header, pack, parse_csv, unpack
from trainer.bank.models import ItemType

CSV = get_format("csv")


def _problems(data: bytes) -> list[str]:
    items, problems = CSV.read(data)
    assert items == [] or not problems
    return [str(p) for p in problems]


def test_the_sample_reads_with_bom_crlf_quotes_multiline_cells_and_blank_rows():
    items, problems = CSV.read(sample_bytes("sample.csv"))
    assert problems == []
    assert [i.id for i in items] == [
        "csv-single-001",
        "csv-multi-002",
        "csv-tf-003",
        "csv-order-004",
        "csv-match-005",
        "csv-num-006",
    ]
    got = by_id(items)
    single = got["csv-single-001"]
    assert single.stem == 'Which DIMSE service verifies that two AEs can talk, "end to end"?'
    assert [o.correct for o in single.options] == [False, True, False, False]
    assert single.options[1].rationale == "C-ECHO is the Verification service; it carries no data set."
    assert [(r.standard, r.section, r.title) for r in single.references] == [
        ("DICOM PS3.4", "A.4", "Verification SOP Class"),
        ("IHE RAD TF-2", "4.8", ""),
    ]
    assert [(d.track, d.domain) for d in single.domains] == [("CDIP", "networking"), ("CIIP", "image-management")]
    assert (single.difficulty, single.level, single.status) == ("easy", "recall", "published")
    multi = got["csv-multi-002"]
    assert multi.type == ItemType.MULTIPLE
    assert multi.stem == "Which TWO are DIMSE-N services?\n\nSelect TWO."  # CRLF inside the cell → \n
    assert [o.correct for o in multi.options] == [True, False, True, False]  # yes / TRUE / no
    assert multi.references[0].title == "DIMSE-N services ; overview"  # \; inside a packed cell
    assert got["csv-order-004"].options[0].text == "C-MOVE-RQ"
    assert [(p.prompt, p.answer) for p in got["csv-match-005"].pairs][1] == ("UI", "UID, dotted")
    numeric = got["csv-num-006"]
    assert (numeric.answer, numeric.tolerance, numeric.unit) == (0.5, 0.01, "MiB")


def test_the_header_is_documented_and_grows_past_six_options():
    assert header()[:7] == ["id", "type", "stem", "option_a", "correct_a", "match_a", "rationale_a"]
    assert header()[-12:] == [
        "answer",
        "tolerance",
        "unit",
        "rationale",
        "references",
        "domains",
        "tags",
        "difficulty",
        "level",
        "status",
        "media",
        "generated",
    ]
    item = all_types()[1].model_copy(deep=True)  # multiple, 5 options
    item.options += [item.options[1].model_copy(update={"text": f"C-OTHER-{n}"}) for n in range(3)]
    text, _ = dump_csv([item])
    columns = next(csv.reader(io.StringIO(text)))
    assert "option_h" in columns and "option_i" not in columns
    back, problems = parse_csv(text)
    assert problems == [] and [o.text for o in back[0].options] == [o.text for o in item.options]


def test_every_bad_row_is_reported_with_its_line_and_column():
    problems = _problems(sample_bytes("broken.csv"))
    assert "line 2: item bad-001: a single-answer item needs at least 2 options and exactly one marked correct" in (
        problems
    )
    assert "line 3: column answer: 'lots' is not a number" in problems  # the record starts on line 3
    assert "line 5: column correct_c: 'maybe' is not a yes/no value (use x or leave it empty)" in problems
    assert "line 5: column domains: 'CDIP' is not TRACK/domain" in problems  # after a two-line record
    assert any(p.startswith("line 5: item Bad Id:") and "(column id)" in p for p in problems)
    assert any(p.startswith("line 5: item Bad Id:") and "(column difficulty)" in p for p in problems)
    assert "line 6: item bad-004: option_b is empty but option_c is filled; leave no gaps" in problems
    assert "line 8: the row has 16 cells but the header names 15 columns" in problems
    assert "line 9: item ok-005: the id is already used at line 7" in problems


def test_a_bad_header_stops_before_the_rows():
    assert _problems(sample_bytes("broken-header.csv")) == ["line 1: unknown column 'optoin_d' in the header"]
    assert _problems(b"type,stem,type\nsingle,x,single\n") == [
        "line 1: the column 'type' appears twice in the header",
        "line 1: the header lacks the column 'id'",
    ]
    assert _problems(b"\n\n") == [
        "line 1: the file is empty: expected a header row (id,type,stem,\u2026) and one row per item"
    ]


def test_bytes_that_are_not_utf8_name_their_line():
    data = "id,type,stem\nx-1,single,caf\u00e9\n".encode("latin-1")
    assert _problems(data) == ["line 2: the file is not UTF-8 text (byte 0xe9 cannot be decoded); save it as UTF-8"]


def test_matching_and_choice_columns_are_not_mixed_up():
    text = (
        "id,type,stem,option_a,correct_a,match_a,option_b,match_b\n"
        "m-1,matching,Match.,DA,x,date,TM,time\n"
        "s-1,single,Pick.,A,x,oops,B,\n"
    )
    assert [str(p) for p in parse_csv(text)[1]] == [
        "line 2: item m-1: a matching item pairs option_a with match_a; correct_a must be empty",
        "line 3: item s-1: match_a is for matching items only",
    ]


@given(st.lists(st.lists(st.text(alphabet="ab |;\\c", max_size=6).map(str.strip), min_size=1, max_size=4), max_size=4))
def test_packed_cells_round_trip(entries):
    expected = []
    for parts in entries:
        while parts and not parts[-1]:
            parts = parts[:-1]
        if any(parts):
            expected.append(parts)
    assert unpack(pack(entries)) == expected
