"""The declarative lab format (``fixtures/labs/*.yaml``), validated by pydantic.

A lab names its starting node configuration, the studies preloaded or handed to the learner (generated
deterministically with :mod:`labs.dicom.synthetic`), and tasks whose checks come from
:mod:`labs.grading.checks`."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AE_RE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")  # PS3.5 §6.2 AE: 16 chars, no backslash
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
PORT_PLACEHOLDER_RE = re.compile(r"^\{(port|peer_port:[a-z0-9-]+)\}$")
# storescu's option proposing each transfer syntax a lab study may be stored in (DCMTK storescu --help).
STORESCU_PROPOSE = {"1.2.840.10008.1.2.4.90": "-xv", "1.2.840.10008.1.2.5": "-xr"}
PEER_REF_RE = re.compile(r"\{peer_(?:port|ae):([a-z0-9-]+)\}")


def _ae(value: str) -> str:
    if not AE_RE.match(value) or not value.strip():
        raise ValueError(f"'{value}' is not a valid AE title (1-16 printable characters, no backslash)")
    return value.strip()


def _uid_list(value: list[str]) -> list[str]:
    for uid in value:
        if not re.match(r"^[0-9]+(\.[0-9]+)*$", uid) or len(uid) > 64:
            raise ValueError(f"'{uid}' is not a UID")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KnownAESpec(Strict):
    """A known AE; ``port`` may be ``{port}`` (the learner's node) or ``{peer_port:KEY}`` (a simulated peer)."""

    ae_title: str
    host: str = "127.0.0.1"
    port: int | str = 11112
    description: str = ""
    move_destination: bool = True
    may_store: bool = True

    _check_ae = field_validator("ae_title")(_ae)

    @field_validator("port")
    @classmethod
    def _port(cls, value: int | str) -> int | str:
        if isinstance(value, int):
            if not 1 <= value <= 65535:
                raise ValueError(f"port {value} is outside 1-65535")
            return value
        if not PORT_PLACEHOLDER_RE.match(value):
            raise ValueError(f"port '{value}' is neither a number nor {{port}} / {{peer_port:KEY}}")
        return value


class WorklistSpec(Strict):
    """A Modality Worklist entry (PS3.4 §K.6.1.2.2); an empty ``start_date`` means the day the lab starts."""

    patient_name: str
    patient_id: str
    accession_number: str = ""
    modality: str = "CT"
    station_ae_title: str = ""
    start_date: str = Field(default="", pattern=r"^(\d{8})?$")
    procedure_description: str = ""


class NodeSpec(Strict):
    ae_title: str = "LAB_PACS"
    known_aes: list[KnownAESpec] = Field(default_factory=list)
    transfer_syntaxes: list[str] = Field(default_factory=list)
    reject_unknown_calling: bool = False
    check_called_ae: bool = True
    accept_all_storage: bool = True
    max_associations: int = Field(default=4, ge=1, le=64)
    duplicate_policy: str = Field(default="overwrite", pattern="^(overwrite|keep_first|reject)$")
    worklist: list[WorklistSpec] = Field(default_factory=list)
    sop_classes: list[str] = Field(default_factory=list, description="Storage SOP classes accepted (PS3.4 B.5)")
    quota_instances: int | None = Field(default=None, ge=0)
    quota_bytes: int | None = Field(default=None, ge=0)
    running: bool = Field(default=True, description="False: the lab starts with the node's listener down")

    _check_ae = field_validator("ae_title")(_ae)
    _uids = field_validator("transfer_syntaxes", "sop_classes")(_uid_list)


class StudySpec(Strict):
    """A synthetic study: the same parameters always give the same UIDs and pixels."""

    key: str
    seed: int = 1
    patient_name: str = "TRAINING^PHANTOM"
    patient_id: str = "PT-0001"
    modality: str = Field(default="CT", pattern="^(CT|MR|US)$")
    series: int = Field(default=1, ge=1, le=4)
    images: int = Field(default=2, ge=1, le=20)
    size: int = Field(default=32, ge=8, le=256)
    accession: str = "ACC0001"
    description: str = "Synthetic phantom study"
    study_date: str = Field(default="20250110", pattern=r"^\d{8}$")
    frames: int = Field(default=1, ge=1, le=16, description="Frames per image (US multi-frame)")
    transfer_syntax: str = Field(
        default="",
        pattern=r"^(|1\.2\.840\.10008\.1\.2\.1|1\.2\.840\.10008\.1\.2\.5|1\.2\.840\.10008\.1\.2\.4\.90)$",
        description="Empty (Explicit VR Little Endian), RLE Lossless or JPEG 2000 Lossless",
    )
    institution: str = ""
    station: str = ""
    other_patient_ids: str = ""
    preload: bool = False  # True: already on the learner's node; False: handed to the learner as files

    def generator_kwargs(self) -> dict[str, Any]:
        return self.model_dump(exclude={"key", "preload"})

    @model_validator(mode="after")
    def _codec(self) -> StudySpec:
        if self.transfer_syntax == "1.2.840.10008.1.2.4.90" and self.size < 32:
            raise ValueError("JPEG 2000 needs images of at least 32 x 32 pixels (size: 32)")
        return self

    @property
    def storescu_option(self) -> str:
        """The storescu option that proposes the files' own transfer syntax (none for Explicit VR Little Endian,
        which storescu proposes by default): without it storescu tries to decompress, and cannot."""
        return STORESCU_PROPOSE.get(self.transfer_syntax, "")


class DestinationSpec(Strict):
    """Where a modality sends (its DICOM settings screen); placeholders ``{ae}``, ``{host}``, ``{port}``."""

    ae_title: str = "{ae}"
    host: str = "{host}"
    port: int | str = "{port}"


class CharsetSpec(Strict):
    """A modality that declares one Specific Character Set (0008,0005) but writes its text in another."""

    declared: str = Field(pattern=r"^[A-Z0-9_ ]{0,16}$")
    actual: str = Field(pattern=r"^[A-Z0-9_ ]{1,16}$")


PeerRole = Literal["modality", "archive", "workstation", "worklist", "faulty"]


class PeerSpec(Strict):
    """A simulated peer started with the lab, isolated per attempt: a node of its own (AE title, port, store)."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    role: PeerRole
    ae_title: str
    description: str = ""
    studies: list[str] = Field(default_factory=list, description="Lab study keys preloaded in its store")
    known_aes: list[KnownAESpec] = Field(default_factory=list, description="Its known AEs / move destinations")
    reject_unknown_calling: bool = False
    worklist: list[WorklistSpec] = Field(default_factory=list)
    destination: DestinationSpec = Field(default_factory=DestinationSpec)
    transfer_syntaxes: list[str] = Field(default_factory=list, description="Offered when sending (default both LE)")
    one_association_per_image: bool = False
    charset: CharsetSpec | None = None
    duplicate_with_changed_content: bool = False
    faults: dict[str, Any] = Field(default_factory=dict)

    _check_ae = field_validator("ae_title")(_ae)
    _uids = field_validator("transfer_syntaxes")(_uid_list)

    @field_validator("faults")
    @classmethod
    def _faults(cls, value: dict[str, Any]) -> dict[str, Any]:
        from labs.dicom.runtime import Faults

        return Faults.from_dict(value).to_dict()


class PeerSettingsStep(Strict):
    """What a learner changes on a simulated modality's console."""

    peer: str
    destination: DestinationSpec | None = None
    one_association_per_image: bool | None = None
    declared_charset: str | None = None
    new_uids_for_changes: bool | None = None


class CheckSpec(Strict):
    check: str
    params: dict[str, Any] = Field(default_factory=dict)
    points: int = Field(default=1, ge=0, le=100)
    hint: str = ""


class TaskSpec(Strict):
    key: str
    title: str
    question: str = Field(default="", description="An answer task: the lab page asks this and keeps the answer")
    checks: list[CheckSpec] = Field(min_length=1)


class AnswerStep(Strict):
    """The learner types ``text`` as the answer of task ``task`` on the lab page."""

    task: str
    text: str


class MergePatientStep(Strict):
    """In the node console, move every study of ``from_patient_id`` to ``to_patient_id`` / ``to_patient_name``."""

    from_patient_id: str
    to_patient_id: str
    to_patient_name: str = ""


class SolutionStep(Strict):
    """One thing a learner does: run a DCMTK command (``{ae}``, ``{port}``, ``{host}``, ``{study_dir:KEY}`` and
    ``{study_file:KEY:N}`` are filled in), add a known AE in the console, or change node settings."""

    run: list[str] | None = None
    add_known_ae: KnownAESpec | None = None
    configure: dict[str, Any] | None = None
    edit_known_ae: KnownAESpec | None = None  # change host/port of the known AE with that title
    worklist_add: WorklistSpec | None = None
    worklist_delete: str | None = None  # accession number of the entries to delete
    peer_settings: PeerSettingsStep | None = None  # a change on a simulated modality's console
    peer_send: str | None = None  # press "Send" on the console of this peer
    peer_commit: str | None = None  # press "Request storage commitment" on the console of this peer
    start_node: bool | None = None  # press Start in the node console
    answer: AnswerStep | None = None
    merge_patient: MergePatientStep | None = None
    delete_study: str | None = None  # a lab study's key: delete that study from the node in the console

    @model_validator(mode="after")
    def _one(self) -> SolutionStep:
        kinds = list(type(self).model_fields)
        if sum(getattr(self, k) is not None for k in kinds) != 1:
            raise ValueError(f"a step has exactly one of {', '.join(kinds)}")
        return self


class Solution(Strict):
    steps: list[SolutionStep] = Field(min_length=1)
    fails: list[str] = Field(default_factory=list, description="Checks this (wrong) solution must fail")
    hint_contains: str = Field(default="", description="Words of the hint of the first check in ``fails``")


class LabSpec(Strict):
    slug: str
    title: str
    tracks: list[str] = Field(min_length=1)
    domains: list[str] = Field(default_factory=list)
    objectives: list[str] = Field(min_length=1)
    instructions: str = Field(min_length=1, description="Markdown")
    time_limit_minutes: int = Field(default=30, ge=1, le=480)
    learner_ae: str = Field(
        default="LEARNER_SCU",
        description="The calling AE title of the device the learner plays: the lab page's example commands use it",
    )
    _check_learner_ae = field_validator("learner_ae")(_ae)
    node: NodeSpec = Field(default_factory=NodeSpec)
    studies: list[StudySpec] = Field(default_factory=list)
    peers: list[PeerSpec] = Field(default_factory=list)
    tasks: list[TaskSpec] = Field(min_length=1)
    hints: list[str] = Field(default_factory=list)
    reference_solution: Solution | None = None
    wrong_solution: Solution | None = None

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG_RE.match(value):
            raise ValueError(f"'{value}' is not a slug (lower-case letters, digits and hyphens)")
        return value

    @property
    def studies_to_send(self) -> list[StudySpec]:
        """The studies handed to the learner as files that no simulated device holds: the learner sends these."""
        on_peers = {key for peer in self.peers for key in peer.studies}
        return [s for s in self.studies if not s.preload and s.key not in on_peers]

    @model_validator(mode="after")
    def _references(self) -> LabSpec:
        from labs.grading.checks import CATALOGUE

        keys = [s.key for s in self.studies]
        if len(keys) != len(set(keys)):
            raise ValueError("study keys must be unique")
        tkeys = [t.key for t in self.tasks]
        if len(tkeys) != len(set(tkeys)):
            raise ValueError("task keys must be unique")
        for t, task in enumerate(self.tasks):
            for c, spec in enumerate(task.checks):
                where = f"tasks.{t}.checks.{c}"
                if spec.check not in CATALOGUE:
                    raise ValueError(f"{where}: unknown check '{spec.check}' (known: {', '.join(sorted(CATALOGUE))})")
                study = spec.params.get("study")
                if study is not None and study not in keys:
                    raise ValueError(f"{where}: params.study '{study}' is not one of the lab's studies {keys}")
                peer = spec.params.get("peer")
                if peer is not None and peer not in {p.key for p in self.peers}:
                    raise ValueError(f"{where}: params.peer '{peer}' is not one of the lab's peers")
                asked = spec.params.get("task")
                if asked is not None and not any(t.key == asked and t.question for t in self.tasks):
                    raise ValueError(f"{where}: params.task '{asked}' is not a task with a question")
        for name in ("reference_solution", "wrong_solution"):
            solution = getattr(self, name)
            for n, step in enumerate(solution.steps if solution else []):
                if step.answer and step.answer.task not in tkeys:
                    raise ValueError(f"{name}.steps.{n}.answer: task '{step.answer.task}' is not one of {tkeys}")
                if step.delete_study and step.delete_study not in keys:
                    raise ValueError(f"{name}.steps.{n}.delete_study: '{step.delete_study}' is not one of {keys}")
        self._check_peers(keys)
        return self

    def _check_peers(self, study_keys: list[str]) -> None:
        pkeys = [p.key for p in self.peers]
        if len(pkeys) != len(set(pkeys)):
            raise ValueError("peer keys must be unique")
        for n, peer in enumerate(self.peers):
            for study in peer.studies:
                if study not in study_keys:
                    raise ValueError(f"peers.{n}.studies: '{study}' is not one of the lab's studies {study_keys}")
        text = self.model_dump_json()
        for ref in PEER_REF_RE.findall(text):
            if ref not in pkeys:
                raise ValueError(f"'{{peer_port:{ref}}}' or '{{peer_ae:{ref}}}' names no peer (peers: {pkeys})")
        solutions = (("reference_solution", self.reference_solution), ("wrong_solution", self.wrong_solution))
        for where, solution in solutions:
            for s, step in enumerate(solution.steps if solution else []):
                named = step.peer_send or step.peer_commit or (step.peer_settings.peer if step.peer_settings else None)
                if named is not None and named not in pkeys:
                    raise ValueError(f"{where}.steps.{s}: peer '{named}' is not one of the lab's peers {pkeys}")

    def peer(self, key: str) -> PeerSpec:
        return next(p for p in self.peers if p.key == key)

    @property
    def total_points(self) -> int:
        return sum(c.points for t in self.tasks for c in t.checks)

    def study(self, key: str) -> StudySpec:
        return next(s for s in self.studies if s.key == key)
