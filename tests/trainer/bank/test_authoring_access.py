"""Only instructors and admins reach the authoring pages and the bank API; learners get 403 everywhere."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

PAGES = [
    ("bank:items", []),
    ("bank:item-new", []),
    ("bank:item-edit", ["t-echo-001"]),
    ("bank:item-preview", ["t-echo-001"]),
    ("bank:item-history", ["t-echo-001"]),
    ("bank:item-status", ["t-echo-001"]),
    ("bank:review-queue", []),
    ("bank:review", ["t-echo-001"]),
    ("bank:lint", []),
    ("bank:import", []),
    ("bank:export", []),
    ("bank:blueprints", []),
    ("bank:blueprint-edit", ["cdip-practice"]),
]

API = [
    ("get", "api:bank:items", []),
    ("post", "api:bank:item-create", []),
    ("get", "api:bank:item", ["t-echo-001"]),
    ("post", "api:bank:item-update", ["t-echo-001"]),
    ("post", "api:bank:item-submit", ["t-echo-001"]),
    ("post", "api:bank:item-draft", ["t-echo-001"]),
    ("post", "api:bank:item-retire", ["t-echo-001"]),
    ("post", "api:bank:item-review-answer", ["t-echo-001"]),
    ("post", "api:bank:item-review-decide", ["t-echo-001"]),
    ("get", "api:bank:item-versions", ["t-echo-001"]),
    ("get", "api:bank:item-history", ["t-echo-001"]),
    ("post", "api:bank:media-upload", []),
    ("get", "api:bank:lint", []),
    ("get", "api:bank:stats", []),
    ("post", "api:bank:import", []),
    ("get", "api:bank:export", []),
    ("get", "api:bank:blueprints", []),
    ("post", "api:bank:blueprint-update", ["cdip-practice"]),
]


def test_every_bank_url_is_covered_by_these_tests():
    from trainer.bank import api_urls, urls

    assert {p.name for p in urls.urlpatterns} == {name.split(":")[1] for name, _ in PAGES}
    assert {p.name for p in api_urls.urlpatterns} == {name.split(":")[2] for _, name, _ in API}


def test_a_learner_gets_403_on_every_authoring_page(sample, learner_client: Client):
    for name, args in PAGES:
        url = reverse(name, args=args)
        assert learner_client.get(url).status_code in {403, 405}, name
        assert learner_client.post(url, {}).status_code == 403, name


def test_anonymous_visitors_are_sent_to_sign_in(sample, client: Client):
    for name, args in PAGES:
        response = client.get(reverse(name, args=args))
        assert response.status_code in {302, 405}, name
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("accounts:login")), name


def test_a_learner_gets_403_on_every_bank_api_endpoint(sample, learner_client: Client):
    for method, name, args in API:
        response = getattr(learner_client, method)(reverse(name, args=args), {})
        assert response.status_code == 403, (name, response.content)


def test_anonymous_callers_get_403_from_the_bank_api(sample, client: Client):
    for method, name, args in API:
        assert getattr(client, method)(reverse(name, args=args), {}).status_code == 403, name


def test_instructors_and_admins_reach_every_authoring_page(sample, instructor_client: Client, admin_user):
    for client in (instructor_client, signed_in(admin_user)):
        for name, args in PAGES:
            if name == "bank:item-status":
                continue  # POST only
            response = client.get(reverse(name, args=args))
            assert response.status_code == 200, (name, response.status_code)


def test_authoring_pages_load_nothing_from_other_hosts_and_run_no_inline_script(sample, instructor_client: Client):
    from tests.trainer.core.test_pages_are_self_contained import EXTERNAL, INLINE_SCRIPT

    for name, args in PAGES:
        if name == "bank:item-status":
            continue
        body = instructor_client.get(reverse(name, args=args)).content.decode()
        assert not INLINE_SCRIPT.search(body), name
        assert ' style="' not in body, name
        hosts = [m.group(0) for m in EXTERNAL.finditer(body)]
        assert not hosts, (name, hosts)


def test_the_instructor_dashboard_links_to_the_bank(instructor_client: Client):
    body = instructor_client.get(reverse("core:teach")).content.decode()
    assert f'href="{reverse("bank:items")}"' in body
    assert f'href="{reverse("bank:review-queue")}"' in body
