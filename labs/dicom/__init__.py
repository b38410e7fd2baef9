"""Everything that speaks DICOM on the wire: the per-node AE and its handlers, SCU operations, statuses,
C-FIND matching, storage of received objects, and image rendering. Nothing here imports Django models: the node
host hands each node a :class:`labs.dicom.runtime.NodeBackend` to reach the database."""
