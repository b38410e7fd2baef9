"""DICOM objects as item exhibits: upload checks (Part 10, size, parse errors, patient data), storage under a
content hash, rendering as an image or a tag dump in preview, review, practice and exams, the API upload, the
bundled exhibits, and how each export format carries them."""

import io
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from PIL import Image
from pydicom import dcmread

from labs.dicom.exhibits import EXHIBITS, JPEG_EXHIBIT, NotAnExhibit, exhibit_check, exhibits_write
from labs.dicom.imaging import render_png
from tests.conftest import signed_in
from tests.trainer.bank.conftest import current, instructor_named
from tests.trainer.bank.test_authoring_items import create, edit
from tests.trainer.exams.conftest import make_blueprint
from tests.trainer.practice.conftest import single_item
from trainer.bank.formats import FORMATS
from trainer.bank.models import Item
from trainer.bank.schema import ItemIn, MediaIn
from trainer.bank.services import AuthoringError, bank_import, item_submit, media_store
from trainer.exams.services import exam_start

pytestmark = pytest.mark.django_db

MEDIA = Path(django_settings.BASE_DIR) / "fixtures" / "media"
CHARSET = "exhibit-charset-mismatch.dcm"


@pytest.fixture
def storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


def dicom_bytes(name: str = CHARSET) -> bytes:
    return (MEDIA / name).read_bytes()


def with_patient_name() -> bytes:
    ds = dcmread(MEDIA / CHARSET)
    ds.PatientName = "DOE^JANE"
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------- bundled files


def test_bundled_exhibits_are_regenerated_byte_for_byte_and_pass_the_exhibit_check(tmp_path):
    written = {p.name: p for p in exhibits_write(tmp_path)}
    assert set(written) == {*EXHIBITS, JPEG_EXHIBIT}
    for name in EXHIBITS:
        assert written[name].read_bytes() == dicom_bytes(name), f"fixtures/media/{name} is not what the code writes"
    for name in written:
        exhibit_check(dicom_bytes(name))
    # the JPEG one (DCMTK's encoder) really is JPEG Lossless SV1 and decodes to the uncompressed exhibit's pixels
    jpeg = dcmread(MEDIA / JPEG_EXHIBIT)
    assert jpeg.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.70"
    assert np.array_equal(jpeg.pixel_array, dcmread(MEDIA / "exhibit-ct-window.dcm").pixel_array)


def test_the_charset_exhibit_really_holds_utf8_bytes_under_a_latin1_declaration():
    ds = dcmread(MEDIA / CHARSET)
    assert ds.SpecificCharacterSet == "ISO_IR 100"
    raw = ds.get_item(0x00081030).value
    assert raw == "Schädel".encode() and ds.StudyDescription == "SchÃ¤del"


# ------------------------------------------------------------------------------------------------ the checks


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"DICM" + b"\0" * 200, "not a DICOM Part 10 file"),
        (dicom_bytes()[:2000], "the file is truncated: Pixel Data (7FE0,0010) holds 944 bytes of the 8192"),
        (dicom_bytes()[:300] + b"\xff" * 40, "could not be parsed"),
        (with_patient_name(), "Patient's Name (0010,0010)"),
    ],
    ids=["no-preamble", "truncated", "garbage", "patient-name"],
)
def test_an_unusable_dicom_object_is_refused_with_a_clear_message(data, message):
    with pytest.raises(NotAnExhibit, match=message.replace("(", r"\(").replace(")", r"\)")):
        exhibit_check(data)


def test_private_attributes_are_refused():
    ds = dcmread(MEDIA / CHARSET)
    ds.private_block(0x0009, "SOME VENDOR", create=True).add_new(0x01, "LO", "anything")
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    with pytest.raises(NotAnExhibit, match="private attributes"):
        exhibit_check(out.getvalue())


def test_media_store_keeps_a_dicom_object_under_its_content_hash_and_enforces_the_size_limit(storage):
    name = media_store(upload=SimpleUploadedFile("whatever.bin", dicom_bytes()))
    assert name.endswith(".dcm") and len(name) == 36
    assert (storage / "bank-media" / name).read_bytes() == dicom_bytes()
    assert media_store(upload=SimpleUploadedFile("again.dcm", dicom_bytes())) == name  # same content, same name
    with pytest.raises(AuthoringError, match="larger than 1 KiB"):
        media_store(upload=SimpleUploadedFile("big.dcm", dicom_bytes()), max_dicom_bytes=1024)
    with pytest.raises(AuthoringError, match="Patient's Name"):
        media_store(upload=SimpleUploadedFile("phi.dcm", with_patient_name()))


# ----------------------------------------------------------------------------------------- authoring and pages


def test_an_uploaded_dicom_dump_is_shown_in_the_preview_and_refused_with_patient_data(
    tracks, instructor_client: Client, storage
):
    item = create(instructor_client)
    refused = edit(
        instructor_client, item, image=SimpleUploadedFile("phi.dcm", with_patient_name()), dicom_render="dump"
    ).content.decode()
    assert "must not carry patient data" in refused and current(item).media == []
    response = edit(instructor_client, item, image=SimpleUploadedFile("x.dcm", dicom_bytes()), dicom_render="dump")
    assert response.status_code == 302
    [media] = current(item).media
    assert media["render"] == "dump" and media["file"].endswith(".dcm")
    page = instructor_client.get(reverse("bank:item-preview", args=[item.external_id])).content.decode()
    assert "(0008,0005) CS SpecificCharacterSet" in page and "SchÃ¤del" in page


def test_a_dicom_image_exhibit_is_a_png_of_the_first_frame(tracks, instructor_client: Client, learner_client, storage):
    item = create(instructor_client)
    upload = SimpleUploadedFile("ct.dcm", dicom_bytes("exhibit-ct-window.dcm"))
    assert edit(instructor_client, item, image=upload, image_alt="CT phantom", dicom_render="image").status_code == 302
    [media] = current(item).media
    url = reverse("bank-media-dicom", args=[media["file"]])
    page = instructor_client.get(reverse("bank:item-preview", args=[item.external_id])).content.decode()
    assert f'src="{url}"' in page and 'alt="CT phantom"' in page
    response = learner_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    pixels = np.asarray(image)
    # window C 40 / W 400: air (-1000 HU) black, the 300 HU insert white, water-like 40 HU mid grey
    assert pixels[0, 0] == 0 and pixels.max() == 255 and 100 < pixels[32, 32] < 160
    assert Client().get(url).status_code == 302  # signed-in users only
    assert learner_client.get(reverse("bank-media-dicom", args=["0" * 32 + ".dcm"])).status_code == 404


def dicom_items(n: int = 6) -> list[ItemIn]:
    items = []
    for i in range(n):
        item = single_item(i)
        media = [MediaIn(file=CHARSET, render="dump"), MediaIn(file="exhibit-ct-window.dcm", alt="CT phantom")]
        items.append(item.model_copy(update={"media": media}))
    return items


DUMP_LINE = "(0008,1030) LO StudyDescription"


def test_learners_see_the_exhibits_in_practice_and_exams(tracks, learner, learner_client: Client):
    bank_import(items=dicom_items())
    response = learner_client.post(reverse("practice:home"), {"track": "CDIP", "mode": "smart", "count": 3})
    page = learner_client.get(response["Location"]).content.decode()
    assert DUMP_LINE in page and "SchÃ¤del" in page
    assert reverse("bank-media-dicom", args=["exhibit-ct-window.dcm"]) in page
    attempt = exam_start(learner=learner, blueprint=make_blueprint("t-dicom", {"networking": 3}, pilot=0), seed=1)
    page = learner_client.get(reverse("exams:question", args=[attempt.pk, 1])).content.decode()
    assert DUMP_LINE in page and 'alt="CT phantom"' in page


def test_the_reviewer_sees_the_exhibit_with_the_blind_question_and_with_the_key(tracks):
    bank_import(items=[dicom_items(1)[0].model_copy(update={"status": "draft"})])
    item = Item.objects.get()
    item_submit(item=item, by=instructor_named("author-a"))
    reviewer = signed_in(instructor_named("reviewer-b"))
    url = reverse("bank:review", args=[item.external_id])
    assert DUMP_LINE in reviewer.get(url).content.decode()
    assert reviewer.post(url, {"step": "answer", "choice": "b"}).status_code == 302
    page = reviewer.get(url).content.decode()
    assert "Step 2 of 2" in page and DUMP_LINE in page


def test_a_missing_exhibit_says_so_instead_of_failing_the_page(tracks, instructor_client: Client):
    item = single_item(1).model_copy(update={"media": [MediaIn(file="gone.dcm", render="dump")]})
    bank_import(items=[item])
    page = instructor_client.get(reverse("bank:item-preview", args=[item.id]))
    assert page.status_code == 200 and "The DICOM exhibit gone.dcm cannot be shown." in page.content.decode()


def test_only_a_dicom_object_can_be_a_dump():
    with pytest.raises(ValueError, match="only a DICOM object"):
        MediaIn(file="scan.png", render="dump")


# ---------------------------------------------------------------------------------------------------- the API


def test_the_api_uploads_a_dicom_exhibit_and_an_item_uses_it(tracks, instructor_client: Client, storage):
    url = reverse("api:bank:media-upload")
    refused = instructor_client.post(url, {"file": SimpleUploadedFile("phi.dcm", with_patient_name())})
    assert refused.status_code == 400 and "Patient's Name" in refused.json()["detail"]
    not_dicom = instructor_client.post(url, {"file": SimpleUploadedFile("x.dcm", b"DICM not really")})
    assert not_dicom.status_code == 400 and "Part 10" in not_dicom.json()["detail"]
    stored = instructor_client.post(url, {"file": SimpleUploadedFile("x.dcm", dicom_bytes())})
    assert stored.status_code == 201 and stored.json()["dicom"] is True
    name = stored.json()["file"]
    body = single_item(1).model_dump(mode="json", exclude={"history", "status", "generated"})
    body["media"] = [{"file": name, "render": "dump"}]
    created = instructor_client.post(reverse("api:bank:item-create"), body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["media"] == [{"file": name, "alt": "", "render": "dump"}]
    bad = {**body, "id": "p-other-001", "media": [{"file": "scan.png", "render": "dump"}]}
    response = instructor_client.post(reverse("api:bank:item-create"), bad, content_type="application/json")
    assert response.status_code == 400 and "only a DICOM object" in str(response.json())


# -------------------------------------------------------------------------------------------------- exports


def test_native_and_csv_round_trip_dicom_exhibits_and_the_others_warn(tmp_path):
    item = dicom_items(1)[0]
    for name in ("native", "csv"):
        fmt = FORMATS[name]
        written = fmt.write([item])
        assert written.warnings == []
        [back], problems = fmt.read(written.data)
        assert not problems and back.media == item.media, name
    for name in ("gift", "moodle", "qti"):
        fmt = FORMATS[name]
        written = fmt.write([item])
        messages = [w.message for w in written.warnings]
        assert len(messages) == 2 and "exhibit-charset-mismatch.dcm (tag dump) is not embedded" in messages[0], name
        [back], problems = fmt.read(written.data)  # the metadata comment brings the reference back here
        assert not problems and back.media == item.media, name


def test_bank_export_prints_the_dicom_warnings(tracks, tmp_path, capsys):
    bank_import(items=dicom_items(1))
    call_command("bank_export", "--format", "gift", "--out", str(tmp_path / "bank.gift.txt"))
    assert "warning: item p-networking-000: the DICOM exhibit" in capsys.readouterr().err


# ------------------------------------------------------------------------- bundled items that use the exhibits


def bundled_exhibit_items() -> dict[str, ItemIn]:
    from trainer.bank.formats.native import parse_native

    items, problems = parse_native((MEDIA.parent / "bank" / "cdip" / "dicom-exhibits.yaml").read_text())
    assert not problems
    return {i.id: i for i in items}


def key_texts(item: ItemIn) -> list[str]:
    return [o.text for o in item.options if o.correct]


def test_every_bundled_exhibit_exists_and_the_items_await_a_second_review():
    items = bundled_exhibit_items()
    assert len(items) == 8
    for item in items.values():
        assert item.status == "in_review" and "needs-second-review" in item.tags
        for media in item.media:
            exhibit_check(dicom_bytes(media.file))


def test_the_exhibit_items_keys_agree_with_the_exhibits():
    from pydicom.charset import python_encoding
    from pydicom.uid import UID

    items = bundled_exhibit_items()
    charset = dcmread(MEDIA / CHARSET)
    raw = charset.get_item(0x00081030).value
    assert python_encoding[charset.SpecificCharacterSet] == "latin_1" and raw.decode("utf-8") == "Schädel"
    assert "UTF-8 bytes" in key_texts(items["cdip-dx-001"])[0]
    assert key_texts(items["cdip-dx-008"]) == ["ISO_IR 192"] and python_encoding["ISO_IR 192"] == "UTF8"
    for wrong in ("ISO_IR 100", "ISO 2022 IR 100", "GB18030"):
        assert python_encoding[wrong] != "UTF8"

    ts = UID(dcmread(MEDIA / JPEG_EXHIBIT).file_meta.TransferSyntaxUID)
    assert ts.name.startswith("JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14")
    assert "Process 14, first-order prediction" in key_texts(items["cdip-dx-002"])[0]

    cr = dcmread(MEDIA / "exhibit-cr-monochrome1.dcm")
    assert cr.PixelRepresentation == 0 and items["cdip-dx-003"].answer == 2**cr.BitsStored - 1
    assert cr.PhotometricInterpretation == "MONOCHROME1" and "white" in key_texts(items["cdip-dx-004"])[0]

    missing = dcmread(MEDIA / "exhibit-missing-type1.dcm")
    keys = key_texts(items["cdip-dx-005"])
    assert [k.split(" (")[0] for k in keys] == ["Study Instance UID", "Series Instance UID"]
    assert "StudyInstanceUID" not in missing and "SeriesInstanceUID" not in missing
    for keyword in ("PatientName", "AccessionNumber", "StudyID"):  # the distractors: present and empty
        assert keyword in missing and missing[keyword].is_empty

    ct = dcmread(MEDIA / "exhibit-ct-window.dcm")
    stored = int(ct.pixel_array[32, 32])
    assert stored == 1064 and items["cdip-dx-007"].answer == stored * ct.RescaleSlope + ct.RescaleIntercept
    assert ct.WindowCenter == 40 and ct.WindowWidth == 400 and ct.PhotometricInterpretation == "MONOCHROME2"
    insert = np.argwhere(ct.pixel_array == 300 + 1024)
    png = np.asarray(Image.open(io.BytesIO(render_png(MEDIA / "exhibit-ct-window.dcm", size=64))))
    row, col = insert[len(insert) // 2]
    assert col < 32 and png[row, col] == 255  # the 300 HU insert is on the left and white
