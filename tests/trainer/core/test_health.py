import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_health_reports_database_broker_and_node_host(client: Client):
    response = client.get("/health/")
    report = response.json()
    assert set(report["components"]) == {"database", "broker", "nodehost"}
    assert report["components"]["database"]["ok"] is True
    assert report["components"]["broker"]["ok"] is True
    assert response.status_code == 200


def test_health_is_degraded_with_503_when_the_broker_is_unreachable(client: Client, settings):
    from trainer.celery import app

    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/health/")
    finally:
        app.conf.broker_url = old
    assert response.status_code == 503
    assert response.json()["components"]["broker"]["ok"] is False
