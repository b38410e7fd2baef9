"""Every lab's reference solution passes and its wrong solution fails the intended checks with the intended
hint, driven with the DCMTK commands a learner would type against a node run by a real node host."""

from __future__ import annotations

import pytest

from labs.grading.models import RunStatus
from labs.scenarios.loader import lab_catalogue
from tests.labs.grading.helpers import grade_now, play, start_lab

pytestmark = [pytest.mark.integration]

LABS = sorted(lab_catalogue())


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Runs are graded in-process here: the enqueue after commit is a no-op."""
    from labs.grading import tasks

    monkeypatch.setattr(tasks.grade, "delay", lambda run_id: None)


def test_there_are_at_least_three_labs_each_with_both_solutions():
    assert len(LABS) >= 3
    for slug in LABS:
        lab = lab_catalogue()[slug]
        assert lab.reference_solution and lab.wrong_solution, slug
        assert lab.wrong_solution.fails, slug


@pytest.mark.parametrize("slug", LABS)
def test_reference_solution_passes_every_check(slug, learner, nodehost, tmp_path):
    lab = lab_catalogue()[slug]
    attempt = start_lab(learner, slug)
    assert lab.reference_solution
    play(lab.reference_solution, lab=lab, attempt=attempt, workdir=tmp_path, nodehost=nodehost)
    run = grade_now(attempt)
    results = list(run.results.all())
    assert run.status == RunStatus.DONE
    assert [r.passed for r in results] == [True] * run.total_checks, [(r.name, r.evidence) for r in results]
    assert run.score == run.max_score == lab.total_points
    assert all(r.evidence and not r.hint for r in results)
    attempt.refresh_from_db()
    assert attempt.status == "passed" and attempt.best_score == run.score


@pytest.mark.parametrize("slug", LABS)
def test_wrong_solution_fails_the_intended_checks_with_the_intended_hint(slug, learner, nodehost, tmp_path):
    lab = lab_catalogue()[slug]
    attempt = start_lab(learner, slug)
    wrong = lab.wrong_solution
    assert wrong
    play(wrong, lab=lab, attempt=attempt, workdir=tmp_path, nodehost=nodehost)
    run = grade_now(attempt)
    failed = {r.name: r for r in run.results.all() if not r.passed}
    assert set(wrong.fails) <= set(failed), [(r.name, r.passed, r.evidence) for r in run.results.all()]
    assert run.score < run.max_score
    intended = failed[wrong.fails[0]]  # the check the wrong solution is written against
    assert wrong.hint_contains in intended.hint, (intended.hint, intended.evidence)


def test_wrong_called_ae_evidence_quotes_the_rejection_from_the_association_log(learner, nodehost, tmp_path):
    lab = lab_catalogue()["verify-connectivity-echo"]
    attempt = start_lab(learner, lab.slug)
    assert lab.wrong_solution
    outputs = play(lab.wrong_solution, lab=lab, attempt=attempt, workdir=tmp_path, nodehost=nodehost)
    assert "Called AE Title Not Recognized" in outputs[0]
    seen = grade_now(attempt).results.get(name="association_seen")
    assert "'LEARNER_SCU' → 'echo_pacs'" in seen.evidence
    assert "result 1, source 1, reason 7" in seen.evidence


def test_unknown_scanner_is_rejected_1_1_3_until_registered(learner, nodehost, tmp_path):
    lab = lab_catalogue()["register-ct-scanner"]
    attempt = start_lab(learner, lab.slug)
    run = grade_now(attempt)
    probe = run.results.get(name="node_accepts_calling_ae")
    assert not probe.passed
    assert "Calling AE Title Not Recognized" in probe.evidence and "PS3.8 §9.3.4" in probe.evidence


def test_a_preloaded_study_is_on_the_node_with_its_pixels_when_the_lab_starts(learner, nodehost):
    from labs.grading.checks import CATALOGUE, CheckContext
    from labs.nodes.models import StoredInstance
    from tests.labs.fixtures import wait_for

    lab = lab_catalogue()["store-a-study"]
    attempt = start_lab(learner, lab.slug)
    assert attempt.node is not None
    nodehost.flush()
    wait_for(lambda: StoredInstance.objects.filter(node=attempt.node).exists(), what="the preloaded study indexed")
    ctx = CheckContext(node=attempt.node, since=attempt.started, lab=lab)
    outcome = CATALOGUE["study_stored"](ctx, {"study": "prior"})
    assert outcome.passed, outcome.evidence
    assert not CATALOGUE["study_stored"](ctx, {"study": "ct-chest"}).passed
