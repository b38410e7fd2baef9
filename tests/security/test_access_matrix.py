"""Every route, visited as five people: anonymous, a stranger (another learner), a teacher of another course,
the learner who owns the object, and the teacher of the learner's course. The route list comes from the URL
configuration itself, so a new route fails ``test_every_route_is_classified`` until it is added here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from labs.grading.models import GradingRun, LabAttempt, LabPeer, UploadedLab
from labs.nodes.models import NodeKind
from labs.nodes.services import known_ae_add, node_create, worklist_item_add
from tests.conftest import signed_in
from tests.factories import InstructorFactory, UserFactory
from tests.trainer.exams.conftest import make_blueprint
from tests.trainer.practice.conftest import single_item
from trainer.accounts.models import User
from trainer.bank.models import Track
from trainer.bank.services import bank_import, blueprints_load, tracks_load
from trainer.courses.models import Assignment, AssignmentKind, CourseRole, Enrollment
from trainer.courses.services import course_create
from trainer.exams.services import exam_form_publish, exam_start, exam_submit
from trainer.practice.services import practice_answer, practice_session_start

ACTORS = ("anon", "stranger", "other_teacher", "learner", "teacher")


@dataclass
class World:
    learner: User
    teacher: User
    stranger: User
    other_teacher: User
    kwargs: dict[str, dict[str, Any]]
    sessions: dict[str, str]  # actor → session key (a fresh Client per test: logging out must not leak)

    def client(self, actor: str) -> Client:
        client = Client()
        if actor in self.sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[actor]
        return client


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once for the module (each test still runs in a transaction that is rolled back)."""
    with django_db_blocker.unblock():
        yield _build_world()
        call_command("flush", interactive=False, verbosity=0)


def _build_world() -> World:
    tracks_load()
    blueprints_load()
    bank_import(items=[single_item(n, d) for d in ("networking", "dicomweb") for n in range(4)])
    blueprint = make_blueprint("acl", {"networking": 2}, pilot=0)
    learner = UserFactory.create(username="owner")
    teacher = InstructorFactory.create(username="teacher")
    stranger = UserFactory.create(username="stranger")
    other_teacher = InstructorFactory.create(username="other-teacher")
    track = Track.objects.get(code="CDIP")
    course = course_create(by=teacher, title="Course", code="acl-course", track=track)
    course_create(by=other_teacher, title="Other", code="other-course", track=track)
    Enrollment.objects.create(course=course, user=learner, role=CourseRole.LEARNER)
    assignment = Assignment.objects.create(course=course, title="Exam", kind=AssignmentKind.EXAM, blueprint=blueprint)
    session = practice_session_start(learner=learner, track=track, count=2, seed=1)
    practice_answer(session=session, item_id=session.queue[0], raw={"choice": "b"})
    active = exam_start(learner=learner, blueprint=blueprint, seed=1)
    done = exam_submit(attempt=exam_start(learner=learner, blueprint=make_blueprint("acl2", {"dicomweb": 1}, pilot=0)))
    item_id = session.queue[0]
    fixed_form = exam_form_publish(blueprint=blueprint, by=teacher, seed=3)
    node = node_create(owner=learner, start=False)
    known = known_ae_add(node=node, ae_title="PEER_AE", host="127.0.0.1", port=11112)
    worklist = worklist_item_add(node=node, patient_name="DOE^JANE", patient_id="MRN1")
    n = node.pk
    lab_attempt = LabAttempt.objects.create(learner=learner, lab_slug="verify-connectivity-echo", node=node)
    lab_run = GradingRun.objects.create(attempt=lab_attempt, max_score=3, total_checks=2)
    peer_node = node_create(owner=learner, kind=NodeKind.PEER, ae_title="CT_ROOM1", start=False)
    console = {"dest_ae": node.ae_title, "dest_host": "127.0.0.1", "dest_port": node.port, "sends": 0}
    LabPeer.objects.create(attempt=lab_attempt, key="ct", role="modality", node=peer_node, settings=console)
    echo_lab = (Path(__file__).resolve().parents[2] / "fixtures" / "labs" / "verify-connectivity-echo.yaml").read_text()
    UploadedLab.objects.create(slug="acl-lab", title="ACL lab", uploaded_by=teacher,
                               source=echo_lab.replace("slug: verify-connectivity-echo", "slug: acl-lab"))  # fmt: skip
    c, a = course.code, assignment.pk
    kwargs: dict[str, dict[str, Any]] = {
        "accounts:password-reset-confirm": {"uidb64": "MQ", "token": "bad-token"},
        "practice:session": {"pk": session.pk},
        "practice:answer": {"pk": session.pk},
        "practice:next": {"pk": session.pk},
        "practice:flag": {"pk": item_id},
        "exams:start": {"code": blueprint.code},
        "exams:form-publish": {"code": blueprint.code},
        "exams:form-start": {"pk": fixed_form.pk},
        "exams:question": {"pk": active.pk, "n": 1},
        "exams:save": {"pk": active.pk, "n": 1},
        "exams:review": {"pk": active.pk},
        "exams:submit": {"pk": active.pk},
        "exams:report": {"pk": done.pk},
        "courses:join-link": {"invite": course.invite_code},
        "courses:detail": {"code": c},
        "courses:roster": {"code": c},
        "courses:accommodation": {"code": c},
        "courses:start": {"code": c, "pk": a},
        "courses:analysis": {"code": c, "pk": a},
        "courses:gradebook": {"code": c},
        "courses:gradebook-csv": {"code": c},
        "courses:readiness": {"code": c},
        "api:practice-current": {"pk": session.pk},
        "api:practice-answer": {"pk": session.pk},
        "api:practice-next": {"pk": session.pk},
        "api:exam-attempt": {"pk": active.pk},
        "api:exam-question": {"pk": active.pk, "n": 1},
        "api:exam-submit": {"pk": active.pk},
        "api:exam-report": {"pk": done.pk},
        "bank-media": {"name": "0" * 64 + ".png"},
        "bank-media-dicom": {"name": "0" * 32 + ".dcm"},
        "labs:detail": {"slug": "verify-connectivity-echo"},
        "labs:start": {"slug": "verify-connectivity-echo"},
        "labs:check": {"attempt_id": lab_attempt.pk},
        "labs:reset": {"attempt_id": lab_attempt.pk},
        "labs:teach-course": {"code": c},
        "labs:teach-lab-delete": {"slug": "acl-lab"},
        "labs:teach-attempt": {"attempt_id": lab_attempt.pk},
        "api:labs:start": {"slug": "verify-connectivity-echo"},
        "api:labs:run": {"run_id": lab_run.pk},
        **{f"api:labs:{n}": {"attempt_id": lab_attempt.pk} for n in ("attempt", "check", "reset", "finish")},
        "labs:finish": {"attempt_id": lab_attempt.pk},
        "labs:answer": {"attempt_id": lab_attempt.pk, "task_key": "echo"},
        "labs:study": {"slug": "store-a-study", "key": "ct-chest"},
        "labs:run": {"run_id": lab_run.pk},
        **{
            name: {"attempt_id": lab_attempt.pk, "key": "ct"}
            for name in ("labs:peer", "labs:peer-settings", "labs:peer-send", "labs:peer-commit")
        },
        **{
            name: {"external_id": "p-networking-000"}
            for name in (
                "bank:item-edit",
                "bank:item-preview",
                "bank:item-history",
                "bank:item-status",
                "bank:review",
                "api:bank:item",
                "api:bank:item-update",
                "api:bank:item-submit",
                "api:bank:item-draft",
                "api:bank:item-retire",
                "api:bank:item-review-answer",
                "api:bank:item-review-decide",
                "api:bank:item-versions",
                "api:bank:item-history",
            )
        },
        **{name: {"node_id": n} for name in NODE_ROUTES},
        "nodes:known-ae-edit": {"node_id": n, "known_id": known.pk},
        "nodes:known-ae-delete": {"node_id": n, "known_id": known.pk},
        "api:nodes:known-ae": {"node_id": n, "known_id": known.pk},
        "nodes:worklist-delete": {"node_id": n, "item_id": worklist.pk},
        "api:nodes:worklist-item": {"node_id": n, "item_id": worklist.pk},
        "nodes:study": {"node_id": n, "study_uid": "1.2.3"},
        "nodes:study-delete": {"node_id": n, "study_uid": "1.2.3"},
        "api:nodes:study": {"node_id": n, "study_uid": "1.2.3"},
        "nodes:instance": {"node_id": n, "instance_id": 999999},
        "nodes:thumbnail": {"node_id": n, "instance_id": 999999},
        "api:nodes:instance-tags": {"node_id": n, "instance_id": 999999},
        "nodes:association": {"node_id": n, "association_id": 999999},
        "api:nodes:association": {"node_id": n, "association_id": 999999},
        "nodes:tool": {"node_id": n, "tool": "echo"},
        "api:nodes:instance-image": {"node_id": n, "instance_id": 999999},
        "lti:login": {"registration_uuid": "00000000-0000-4000-8000-000000000000"},
        "lti:assignment": {"pk": a},
        "lti:roster-sync": {"code": c},
        **{
            name: {"code": c}
            for name in (
                "api:course",
                "api:course-enrollments",
                "api:course-roster",
                "api:course-assignments",
                "api:course-accommodations",
                "api:course-gradebook",
                "api:course-gradebook-csv",
                "api:course-overrides",
                "api:course-readiness",
            )
        },
        "api:course-assignment": {"code": c, "pk": a},
        "api:course-item-analysis": {"code": c, "pk": a},
        "bank:blueprint-edit": {"code": blueprint.code},
        "api:bank:blueprint-update": {"code": blueprint.code},
    }
    people = {"stranger": stranger, "other_teacher": other_teacher, "learner": learner, "teacher": teacher}
    sessions = {actor: signed_in(user).cookies[settings.SESSION_COOKIE_NAME].value for actor, user in people.items()}
    return World(learner, teacher, stranger, other_teacher, kwargs, sessions)


def expect(anon: int | set[int], stranger: int | set[int], other_teacher: int | set[int], learner: int | set[int],
           teacher: int | set[int]) -> dict[str, set[int]]:  # fmt: skip
    values = (anon, stranger, other_teacher, learner, teacher)
    return {actor: v if isinstance(v, set) else {v} for actor, v in zip(ACTORS, values, strict=True)}


OK, REDIRECT = {200}, {302}
PUBLIC = expect(200, 200, 200, 200, 200)
SIGNED_IN = expect(302, 200, 200, 200, 200)
SIGNED_IN_POST = expect(302, {200, 302}, {200, 302}, {200, 302}, {200, 302})
LEARNER_OWNS = expect(302, 404, 404, 200, 404)
LEARNER_OWNS_POST = expect(302, 404, 404, {200, 302}, 404)
COURSE_STAFF = expect(302, 404, 404, 403, 200)
COURSE_STAFF_POST = expect(302, 404, 404, 403, {200, 302})
COURSE_MEMBER = expect(302, 404, 404, 200, 200)
API_PUBLIC = expect(200, 200, 200, 200, 200)
API_SIGNED_IN = expect(403, 200, 200, 200, 200)
API_OWNS = expect(403, 404, 404, 200, 404)
NOBODY_FINDS = expect(302, 404, 404, 404, 404)  # a sub-object that does not exist: 404 for everyone
API_NOBODY_FINDS = expect(403, 404, 404, 404, 404)
API_OWNS_WRITE = expect(403, 404, 404, {200, 201, 202, 204, 400}, 404)
NODE_ROUTES = (
    "nodes:detail", "nodes:state", "nodes:start", "nodes:stop", "nodes:reset", "nodes:keep-alive", "nodes:delete",
    "nodes:settings", "nodes:syntaxes", "nodes:known-aes", "nodes:worklist", "nodes:studies", "nodes:log",
    "nodes:tools", "api:nodes:detail", "api:nodes:config", "api:nodes:start", "api:nodes:stop", "api:nodes:reset",
    "api:nodes:keep-alive", "api:nodes:known-aes", "api:nodes:worklist", "api:nodes:studies",
    "api:nodes:associations", "api:nodes:scu-echo", "api:nodes:scu-find", "api:nodes:scu-move", "api:nodes:scu-send",
    "nodes:patient-merge",
)  # fmt: skip
API_COURSE_STAFF = expect(403, 403, 404, 403, 200)  # teaching nothing: 403; teaching another course: 404
API_COURSE_STAFF_WRITE = expect(403, 403, 404, 403, {200, 201, 204, 400})
LTI_PROTOCOL = expect({400, 403, 404}, {400, 403, 404}, {400, 403, 404}, {400, 403, 404}, {400, 403, 404})
# The bank is shared by every instructor on the platform; learners never reach it.
INSTRUCTORS = expect(302, 403, 200, 403, 200)
INSTRUCTORS_POST = expect(302, 403, {200, 302, 400}, 403, {200, 302, 400})
API_INSTRUCTORS = expect(403, 403, 200, 403, 200)
API_INSTRUCTORS_POST = expect(403, 403, {200, 201, 400, 409}, 403, {200, 201, 400, 409})

# name → (method, expected status per actor)
MATRIX: dict[str, tuple[str, dict[str, set[int]]]] = {
    "core:home": ("get", expect(200, 302, 302, 302, 302)),
    "core:dashboard": ("get", expect(302, 200, 302, 200, 302)),  # teachers are sent to their own dashboard
    "core:teach": ("get", expect(302, 403, 200, 403, 200)),
    "core:health": ("get", PUBLIC),
    "accounts:sign-up": ("get", expect(200, 302, 302, 302, 302)),
    "accounts:login": ("get", expect(200, 302, 302, 302, 302)),
    "accounts:logout": ("post", expect(302, 302, 302, 302, 302)),
    "accounts:profile": ("get", SIGNED_IN),
    "accounts:password-change": ("get", SIGNED_IN),
    "accounts:password-change-done": ("get", SIGNED_IN),
    "accounts:password-reset": ("get", PUBLIC),
    "accounts:password-reset-done": ("get", PUBLIC),
    "accounts:password-reset-confirm": ("get", PUBLIC),
    "accounts:password-reset-complete": ("get", PUBLIC),
    "practice:home": ("get", SIGNED_IN),
    "practice:review": ("post", SIGNED_IN_POST),
    "practice:readiness": ("get", SIGNED_IN),
    "practice:session": ("get", LEARNER_OWNS),
    "practice:answer": ("post", LEARNER_OWNS_POST),
    "practice:next": ("post", LEARNER_OWNS_POST),
    "practice:flag": ("post", LEARNER_OWNS_POST),
    "exams:home": ("get", SIGNED_IN),
    "exams:start": ("post", expect(302, 302, 302, 302, 302)),  # anyone signed in may start a practice exam
    "exams:form-publish": ("post", expect(302, 403, 302, 403, 302)),
    "exams:form-start": ("post", expect(302, 302, 302, 302, 302)),  # any signed-in learner may sit a published form
    "exams:question": ("get", LEARNER_OWNS),
    "exams:save": ("post", LEARNER_OWNS_POST),
    "exams:review": ("get", LEARNER_OWNS),
    "exams:submit": ("post", LEARNER_OWNS_POST),
    "exams:report": ("get", LEARNER_OWNS),
    "courses:list": ("get", SIGNED_IN),
    "courses:join": ("post", SIGNED_IN_POST),
    "courses:join-link": ("get", expect(302, 302, 302, 302, 302)),  # joins, then redirects
    "courses:detail": ("get", COURSE_MEMBER),
    "courses:roster": ("post", COURSE_STAFF_POST),
    "courses:accommodation": ("post", COURSE_STAFF_POST),
    "courses:start": ("post", expect(302, 404, 404, 302, 302)),
    "courses:analysis": ("get", COURSE_STAFF),
    "courses:gradebook": ("get", COURSE_STAFF),
    "courses:gradebook-csv": ("get", COURSE_STAFF),
    "courses:readiness": ("get", COURSE_STAFF),
    "api:schema": ("get", API_PUBLIC),
    "api:docs": ("get", API_PUBLIC),
    "api:me": ("get", API_SIGNED_IN),
    "api:practice-sessions": ("post", expect(403, 400, 400, 400, 400)),  # empty body: a validation error
    "api:practice-current": ("get", API_OWNS),
    "api:practice-answer": ("post", expect(403, 404, 404, 400, 404)),
    "api:practice-next": ("post", API_OWNS),
    "api:practice-due": ("get", API_SIGNED_IN),
    "api:practice-readiness": ("get", API_SIGNED_IN),
    "api:exam-attempts": ("post", expect(403, 400, 400, 400, 400)),
    "api:exam-attempt": ("get", API_OWNS),
    "api:exam-question": ("get", API_OWNS),
    "api:exam-submit": ("post", API_OWNS),
    "api:exam-report": ("get", API_OWNS),
    "nodes:list": ("get", SIGNED_IN),
    "labs:list": ("get", SIGNED_IN),
    "labs:detail": ("get", SIGNED_IN),  # everyone sees the lab; the attempt shown is their own
    "labs:start": ("post", expect(302, 302, 302, 302, 302)),  # starts (or resumes) the actor's own attempt
    "labs:check": ("post", LEARNER_OWNS_POST),
    "labs:reset": ("post", LEARNER_OWNS_POST),
    "labs:teach": ("get", INSTRUCTORS),
    "labs:teach-lab-delete": ("post", expect(302, 403, 404, 403, 302)),  # the uploader only
    "labs:teach-course": ("get", expect(302, 403, 404, 403, 200)),  # instructors only; another course: 404
    "labs:teach-attempt": ("get", expect(302, 403, 404, 403, 200)),  # a learner of a course they teach
    "labs:finish": ("post", LEARNER_OWNS_POST),
    "labs:answer": ("post", LEARNER_OWNS_POST),  # the answer is kept on the actor's own attempt
    "labs:run": ("get", LEARNER_OWNS),
    "labs:peer": ("get", LEARNER_OWNS),  # a simulated device of the learner's own attempt
    "labs:peer-settings": ("post", LEARNER_OWNS_POST),
    "labs:peer-send": ("post", LEARNER_OWNS_POST),
    "labs:peer-commit": ("post", LEARNER_OWNS_POST),
    "labs:study": ("get", SIGNED_IN),  # generated training data, the same for everyone
    "nodes:detail": ("get", LEARNER_OWNS),
    "nodes:state": ("get", LEARNER_OWNS),
    "nodes:start": ("post", LEARNER_OWNS_POST),
    "nodes:stop": ("post", LEARNER_OWNS_POST),
    "nodes:reset": ("post", LEARNER_OWNS_POST),
    "nodes:keep-alive": ("post", LEARNER_OWNS_POST),
    "nodes:delete": ("post", LEARNER_OWNS_POST),
    "nodes:settings": ("get", LEARNER_OWNS),
    "nodes:syntaxes": ("get", LEARNER_OWNS),
    "nodes:known-aes": ("get", LEARNER_OWNS),
    "nodes:known-ae-edit": ("post", LEARNER_OWNS_POST),
    "nodes:known-ae-delete": ("post", LEARNER_OWNS_POST),
    "nodes:worklist": ("get", LEARNER_OWNS),
    "nodes:worklist-delete": ("post", LEARNER_OWNS_POST),
    "nodes:studies": ("get", LEARNER_OWNS),
    "nodes:study": ("get", NOBODY_FINDS),
    "nodes:study-delete": ("post", LEARNER_OWNS_POST),  # the owner is told the study is not there
    "nodes:patient-merge": ("post", LEARNER_OWNS_POST),
    "nodes:instance": ("get", NOBODY_FINDS),
    "nodes:thumbnail": ("get", NOBODY_FINDS),
    "nodes:log": ("get", LEARNER_OWNS),
    "nodes:association": ("get", NOBODY_FINDS),
    "nodes:tools": ("get", LEARNER_OWNS),
    "nodes:tool": ("get", LEARNER_OWNS),
    "api:nodes:list": ("get", API_SIGNED_IN),
    "api:nodes:catalog": ("get", API_SIGNED_IN),
    "api:nodes:detail": ("get", API_OWNS),
    "api:nodes:config": ("patch", API_OWNS_WRITE),
    "api:nodes:start": ("post", API_OWNS_WRITE),
    "api:nodes:stop": ("post", API_OWNS_WRITE),
    "api:nodes:reset": ("post", API_OWNS_WRITE),
    "api:nodes:keep-alive": ("post", API_OWNS_WRITE),
    "api:nodes:known-aes": ("get", API_OWNS),
    "api:nodes:known-ae": ("patch", API_OWNS_WRITE),
    "api:nodes:worklist": ("get", API_OWNS),
    "api:nodes:worklist-item": ("delete", API_OWNS_WRITE),
    "api:nodes:studies": ("get", API_OWNS),
    "api:nodes:study": ("get", API_NOBODY_FINDS),
    "api:nodes:instance-tags": ("get", API_NOBODY_FINDS),
    "api:nodes:associations": ("get", API_OWNS),
    "api:nodes:association": ("get", API_NOBODY_FINDS),
    "api:nodes:scu-echo": ("post", API_OWNS_WRITE),
    "api:nodes:scu-find": ("post", API_OWNS_WRITE),
    "api:nodes:scu-move": ("post", API_OWNS_WRITE),
    "api:nodes:scu-send": ("post", API_OWNS_WRITE),
    "api:nodes:instance-image": ("get", API_NOBODY_FINDS),
    "api:labs:list": ("get", API_SIGNED_IN),
    "api:labs:attempts": ("get", API_SIGNED_IN),  # the actor's own attempts
    "api:labs:start": ("post", expect(403, 200, 200, 200, 200)),  # starts (or resumes) the actor's own attempt
    "api:labs:attempt": ("get", API_OWNS),
    "api:labs:check": ("post", API_OWNS_WRITE),
    "api:labs:reset": ("post", expect(403, 404, 404, 409, 404)),  # the world's queued run: "wait for it" (409)
    "api:labs:finish": ("post", API_OWNS_WRITE),
    "api:labs:run": ("get", API_OWNS),
    "api:courses": ("get", expect(403, 403, 200, 403, 200)),
    "api:course": ("get", API_COURSE_STAFF),
    "api:course-enrollments": ("get", API_COURSE_STAFF),
    "api:course-roster": ("post", API_COURSE_STAFF_WRITE),
    "api:course-assignments": ("get", API_COURSE_STAFF),
    "api:course-assignment": ("get", API_COURSE_STAFF),
    "api:course-item-analysis": ("get", API_COURSE_STAFF),
    "api:course-accommodations": ("get", API_COURSE_STAFF),
    "api:course-gradebook": ("get", API_COURSE_STAFF),
    "api:course-gradebook-csv": ("get", API_COURSE_STAFF),
    "api:course-overrides": ("post", API_COURSE_STAFF_WRITE),
    "api:course-readiness": ("get", API_COURSE_STAFF),
    "lti:jwks": ("get", PUBLIC),
    "lti:login": ("get", LTI_PROTOCOL),  # an unknown registration
    "lti:launch": ("post", LTI_PROTOCOL),  # no id_token: refused whoever asks
    "lti:deep-link": ("post", {**LTI_PROTOCOL, "anon": {302}}),  # only inside a deep-linking launch
    "lti:assignment": ("get", COURSE_MEMBER),
    "lti:roster-sync": ("post", expect(302, 404, 404, 404, {200, 302})),
    "bank:items": ("get", INSTRUCTORS),
    "bank:item-new": ("get", INSTRUCTORS),
    "bank:item-edit": ("get", INSTRUCTORS),
    "bank:item-preview": ("get", INSTRUCTORS),
    "bank:item-history": ("get", INSTRUCTORS),
    "bank:item-status": ("post", INSTRUCTORS_POST),
    "bank:review-queue": ("get", INSTRUCTORS),
    "bank:review": ("get", expect(302, 403, {200, 302}, 403, {200, 302})),  # not in review: sent back
    "bank:lint": ("get", INSTRUCTORS),
    "bank:import": ("get", INSTRUCTORS),
    "bank:export": ("get", INSTRUCTORS),
    "bank:blueprints": ("get", INSTRUCTORS),
    "bank:blueprint-edit": ("get", INSTRUCTORS),
    "bank-media": ("get", expect(302, 404, 404, 404, 404)),  # signed-in only; no such file
    "bank-media-dicom": ("get", expect(302, 404, 404, 404, 404)),  # signed-in only; no such file
    "api:bank:items": ("get", API_INSTRUCTORS),
    "api:bank:item-create": ("post", API_INSTRUCTORS_POST),
    "api:bank:item": ("get", API_INSTRUCTORS),
    "api:bank:item-update": ("post", API_INSTRUCTORS_POST),
    "api:bank:item-submit": ("post", API_INSTRUCTORS_POST),
    "api:bank:item-draft": ("post", API_INSTRUCTORS_POST),
    "api:bank:item-retire": ("post", API_INSTRUCTORS_POST),
    "api:bank:item-review-answer": ("post", API_INSTRUCTORS_POST),
    "api:bank:item-review-decide": ("post", API_INSTRUCTORS_POST),
    "api:bank:item-versions": ("get", API_INSTRUCTORS),
    "api:bank:item-history": ("get", API_INSTRUCTORS),
    "api:bank:media-upload": ("post", API_INSTRUCTORS_POST),  # no file: 400
    "api:bank:lint": ("get", API_INSTRUCTORS),
    "api:bank:stats": ("get", API_INSTRUCTORS),
    "api:bank:import": ("post", API_INSTRUCTORS_POST),
    "api:bank:export": ("get", API_INSTRUCTORS),
    "api:bank:blueprints": ("get", API_INSTRUCTORS),
    "api:bank:blueprint-update": ("post", API_INSTRUCTORS_POST),
}


def route_names() -> Iterator[str]:
    def walk(patterns: list[Any], ns: str | None) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, ":".join(x for x in (ns, p.namespace) if x) or None)
            elif isinstance(p, URLPattern) and p.name:
                yield f"{ns}:{p.name}" if ns else p.name

    for name in walk(get_resolver().url_patterns, None):
        if not name.startswith("admin:") and name not in {"django.contrib.staticfiles"}:
            yield name


def test_every_route_is_classified():
    assert sorted(set(route_names()) - set(MATRIX)) == [], "classify new routes in MATRIX"
    assert sorted(set(MATRIX) - set(route_names())) == []


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_route_answers_each_actor_as_classified(world: World, db: None, name: str):
    method, expected = MATRIX[name]
    url = reverse(name, kwargs=world.kwargs.get(name, {}))
    got = {}
    for actor in ACTORS:
        call: Callable[..., Any] = getattr(world.client(actor), method)
        got[actor] = call(url).status_code
    wrong = {a: (got[a], sorted(expected[a])) for a in ACTORS if got[a] not in expected[a]}
    assert not wrong, f"{name} {url}: {wrong}"
