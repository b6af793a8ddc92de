from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class DataImportSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DATA_IMPORT_", extra="ignore")

    # A replica works on an import under a lease it renews after every batch; when it dies, another replica
    # takes the import over once the lease has run out.
    lease_s: float = 30.0
    # How often a replica looks for imports left without a worker (a replica killed, a restart).
    resume_every_s: float = 5.0
    # An owner reviews or applies 500 rows per batch: more than a form's RPC.
    owner_timeout_s: float = 60.0
    # Waits between two tries of a batch an owner did not answer, doubling up to this.
    retry_max_s: float = 10.0
    # Batches sent to an owner at once (review and apply): the next one is on its way while one is being handled.
    batches_in_flight: int = 2
    # clamd's unix socket (DATA_IMPORT_CLAMD_SOCKET): every uploaded file is scanned there before it is read.
    # Without one, uploads are refused, except in dev where they are read unscanned with a warning.
    clamd_socket: str = ""
    # How long clamd may take to answer (its own limit on one scan is 120 s).
    clamd_timeout_s: float = 130.0
