from tests.labs.fixtures import node_settings, nodehost  # noqa: F401 - fixtures
