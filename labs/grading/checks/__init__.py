"""The check catalogue: pure, DICOM-aware checks of a learner's node.

Each check reads the node's association log, stored-instance index or configuration (or, for the active
probes, opens an association to the node through :mod:`labs.dicom.scu`) and returns pass/fail, the points,
evidence quoting the facts with the PS3.7/PS3.8 reference, and a hint for a learner who failed.

Checks live in one module per subject; importing this package registers them all in ``CATALOGUE``."""

from labs.grading.checks import data, network, peers, qr, storage  # noqa: F401 - registers the checks
from labs.grading.checks.base import CATALOGUE, CheckContext, CheckFn, Outcome, check
from labs.grading.checks.storage import expected_instances

__all__ = ["CATALOGUE", "CheckContext", "CheckFn", "Outcome", "check", "expected_instances"]
