# Handler tests in memory (testkit.handlers): FastStream's TestNatsBroker over a migrated database per backend.
from testkit.handlers import handler_databases, service_under_test, services_under_test, token_mint  # noqa: F401
