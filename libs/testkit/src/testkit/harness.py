"""The service processes of end-to-end tests, started as ``make run`` starts them: the code lives in
``servicekit.processes``, with the supervisor of ``carnet up``."""
from servicekit.processes import ServiceProcess, gateway_process, service_process, stop_all

__all__ = ["ServiceProcess", "gateway_process", "service_process", "stop_all"]
