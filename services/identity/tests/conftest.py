from testkit.handlers import handler_databases, service_under_test, token_mint  # noqa: F401  (fixtures)
