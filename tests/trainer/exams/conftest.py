import pytest

from tests.trainer.practice.conftest import bank  # noqa: F401 - reuse the small published bank
from trainer.bank.models import Blueprint, BlueprintDomain, Domain, Track


def make_blueprint(code: str, counts: dict[str, int], pilot: int = 1, minutes: int = 10) -> Blueprint:
    track = Track.objects.get(code="CDIP")
    bp = Blueprint.objects.create(
        code=code,
        track=track,
        name=f"Test {code}",
        scored_items=sum(counts.values()),
        pilot_items=pilot,
        time_limit_minutes=minutes,
    )
    for domain, n in counts.items():
        BlueprintDomain.objects.create(blueprint=bp, domain=Domain.objects.get(track=track, code=domain), items=n)
    return bp


@pytest.fixture
def small_blueprint(bank):  # noqa: F811
    return make_blueprint("t-small", {"networking": 3, "dicomweb": 2}, pilot=1)
