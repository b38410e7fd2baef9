"""Every file input refuses a file that is too big or of the wrong type with a clear message and keeps nothing:
any request body over UPLOAD_MAX_BYTES (413, pages and API), bank import files (page and API), item images,
roster CSVs (page and API). The platform has no DICOM upload form: DICOM arrives over the network only, where
the node's own limits apply (see tests/integration/test_nodehost_scale_and_faults.py and test_dicom_fuzz.py)."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from tests.conftest import signed_in
from tests.trainer.bank.conftest import SAMPLE, tracks  # noqa: F401 - fixture
from tests.trainer.bank.test_authoring_items import create, current, edit
from trainer.accounts.models import User
from trainer.bank.formats import get_format
from trainer.bank.formats.native import parse_native
from trainer.bank.models import Item, Track
from trainer.courses.models import Course, Enrollment
from trainer.courses.services import course_create

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_bytes(size: tuple[int, int] = (8, 8), noise: bool = False) -> bytes:
    image = (
        Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise else Image.new("RGB", size, "white")
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------- any request body


def test_a_request_body_over_the_limit_is_refused_with_413_before_it_is_read(instructor_client: Client, settings):
    settings.UPLOAD_MAX_BYTES = 64 * 1024
    big = SimpleUploadedFile("bank.yaml", b"x" * (100 * 1024), content_type="application/x-yaml")
    page = instructor_client.post(reverse("bank:import"), {"file": big, "format": "native"})
    assert page.status_code == 413
    body = page.content.decode()
    assert "Upload too large" in body and "the limit is 64 KiB" in body and "Nothing was saved" in body

    big.seek(0)
    api = instructor_client.post("/api/bank/import/", {"file": big, "format": "native"})
    assert api.status_code == 413 and "the limit is 64 KiB" in api.json()["detail"]


# ------------------------------------------------------------------------------------------- bank import


def test_a_bank_file_over_its_limit_is_refused_on_the_page_and_the_api(tracks, instructor_client, settings):  # noqa: F811
    settings.BANK_IMPORT_MAX_BYTES = 1024
    data = SAMPLE.encode() + b"#" * 2048
    page = instructor_client.post(
        reverse("bank:import"), {"file": SimpleUploadedFile("bank.yaml", data), "format": "native"}
    ).content.decode()
    assert "The file is " in page and "the limit is 1 KiB" in page
    api = instructor_client.post(
        "/api/bank/import/", {"file": SimpleUploadedFile("bank.yaml", data), "format": "native"}
    )
    assert api.status_code == 400 and "the limit is 1 KiB" in api.json()["detail"]
    assert not Item.objects.exists()


def test_a_bank_file_of_the_wrong_type_is_a_clear_problem_and_imports_nothing(tracks, instructor_client):  # noqa: F811
    image = png_bytes()
    page = instructor_client.post(
        reverse("bank:import"), {"file": SimpleUploadedFile("bank.yaml", image), "format": "native"}
    ).content.decode()
    assert "not UTF-8" in page
    api = instructor_client.post("/api/bank/import/", {"file": SimpleUploadedFile("b.yaml", image), "format": "native"})
    assert api.status_code == 400 and "not UTF-8" in str(api.json())
    as_qti = instructor_client.post("/api/bank/import/", {"file": SimpleUploadedFile("b.zip", image), "format": "qti"})
    assert as_qti.status_code == 400 and as_qti.json()["problems"]
    assert not Item.objects.exists()


def test_a_binary_bank_file_imports_through_the_page_and_the_api(tracks, instructor_client):  # noqa: F811
    """Uploads used to be decoded as UTF-8 before the format saw them, so a QTI package could never be imported."""
    items, problems = parse_native(SAMPLE)
    assert not problems
    package = get_format("qti").write(items).data
    assert zipfile.is_zipfile(io.BytesIO(package))
    checked = instructor_client.post(
        "/api/bank/import/", {"file": SimpleUploadedFile("bank.zip", package), "format": "qti", "dry_run": True}
    )
    assert checked.status_code == 200, checked.content.decode()[:2000]
    page = instructor_client.post(
        reverse("bank:import"), {"file": SimpleUploadedFile("bank.zip", package), "format": "qti", "dry_run": "on"}
    ).content.decode()
    assert "not UTF-8" not in page and 'name="token"' in page
    assert not Item.objects.exists()  # both were dry runs


# ------------------------------------------------------------------------------------------- item images


def test_an_item_image_over_two_mib_is_refused_through_the_page(tracks, instructor_client, settings, tmp_path):  # noqa: F811
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    item = create(instructor_client)
    big = png_bytes((1100, 1100), noise=True)
    assert len(big) > 2 * 1048576 and big.startswith(PNG_MAGIC)
    page = edit(instructor_client, item, image=SimpleUploadedFile("big.png", big), image_alt="noise").content.decode()
    assert "the limit is 2 MiB" in page
    text = edit(
        instructor_client, item, image=SimpleUploadedFile("notes.png", b"just text", content_type="image/png"),
        image_alt="x",
    ).content.decode()  # fmt: skip
    assert "not a valid image" in text.lower() or "not an image" in text.lower()
    assert current(item).media == []
    assert not list(tmp_path.rglob("*.png"))


# ------------------------------------------------------------------------------------------- roster CSV


@pytest.fixture
def course(instructor: User) -> Course:
    from trainer.bank.services import tracks_load

    tracks_load()
    return course_create(by=instructor, title="PACS 101", code="pacs-101", track=Track.objects.get(code="CDIP"))


def test_a_roster_over_one_mb_or_not_csv_is_refused_on_the_page(course: Course, instructor: User) -> None:
    client = signed_in(instructor)
    url = reverse("courses:roster", args=[course.code])
    big = b"username,email\n" + b"a,a@example.org\n" * 70000
    page = client.post(url, {"file": SimpleUploadedFile("roster.csv", big)}, follow=True).content.decode()
    assert "larger than 1 MB" in page
    wrong = client.post(url, {"file": SimpleUploadedFile("roster.png", png_bytes())}, follow=True).content.decode()
    assert "Upload a .csv file" in wrong
    binary = client.post(url, {"file": SimpleUploadedFile("roster.csv", png_bytes())}, follow=True).content.decode()
    assert "not UTF-8" in binary
    assert not Enrollment.objects.filter(course=course).exclude(user=instructor).exists()


def test_a_roster_over_the_limit_is_refused_by_the_api(course: Course, instructor: User) -> None:
    body = "username,email\n" + "a,a@example.org\n" * 70000
    response = signed_in(instructor).post(
        f"/api/courses/{course.code}/enrollments/import/", {"csv": body}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "no more than" in str(response.json()["csv"])
    assert not Enrollment.objects.filter(course=course).exclude(user=instructor).exists()
