"""The provider interface. The engine streams a run's deliverable rows to a provider in batches.

- ``deliver(batch)`` gets a list of ``DeliveryRow`` and returns, per row, a ``RowResult`` (processed,
  or an error with the provider's message verbatim, or ``refused`` by the portal itself). A provider whose delivery only succeeds as a whole
  (a file) sets ``per_row_results = False`` and returns None: the engine then marks every delivered row
  processed in the final transaction, together with the ledger and the status.
- ``supports_removals``: whether removed records (mutation ``removed``) can be delivered; when not, the
  engine leaves them out and says so in the report.
- ``test_mode``: a test run must deliver nothing that writes (an API provider validates and keeps the
  payloads instead of sending them); a file provider writes its file in both modes.
- Each row carries ``reference`` (run and record), so that an API retry after a crash never posts twice.
- ``flush()`` (after the last batch): results of rows a provider held back (e.g. the last journal, whose
  lines may continue in the next batch). ``stopped``: set by a provider that stops on error; the engine
  then delivers no further batches (the rest stay unprocessed, for a later export).
- ``finance_system``: a provider that is a departments' finance system (seed 004: ``visma_net``) receives
  only the rows of departments whose finance system it is (types that ``route``); the engine leaves the
  others out and counts them in the report.
- ``check_start(profile, mode)``: refuse a run before it starts or exports (e.g. a stopped sync).
- ``row_checks(profile, company_id, record_key)``: row validations of the provider's own, as SQL
  (``types.sql.Check``), that prepare adds to the export type's: a row the provider would refuse at
  delivery (``visma_net``: its company is not mapped to a branch) is invalid from prepare on, reported
  like a blocked debtor. The provider's refusal at delivery stays (the setting may change in between).
"""
from dataclasses import dataclass


@dataclass
class DeliveryRow:
    row_id: int
    record_key: str
    mutation: str
    payload: dict        # the values as the export type's columns declare them (Decimal, date, …)
    reference: str       # unique per run and record: "<run id>:<record key>"


@dataclass
class RowResult:
    row_id: int
    ok: bool
    message: str | None = None    # the provider's own message, verbatim
    code: str = "provider_rejected"
    params: dict | None = None    # extra report parameters for ``code`` (besides record and provider)
    # The portal refused the row itself, before asking the provider (e.g. its company is not mapped to a
    # Visma.net branch): an error of the row by rule, like a blocked debtor — it never stops the sync and
    # is never "left" (the engine marks the row invalid); the rest is delivered.
    refused: bool = False


@dataclass
class DeliveredFile:
    name: str
    path: str
    format: str
    size: int
    sha256: str
    rows: int


class Provider:
    key = ""
    label = ""
    supports_removals = True
    finance_system = None
    per_row_results = False
    batch_size = 1000
    stopped = False
    # True: payload values arrive as the columns' Python types (Decimal, date, datetime, int, bool);
    # False: as stored (text for decimals, dates and times), which file writers parse themselves.
    typed_values = True

    def __init__(self, *, profile, run, export_type, columns, storage_root, export_pass, version):
        self.profile = profile
        self.run = run
        self.export_type = export_type
        self.columns = columns
        self.storage_root = storage_root
        self.export_pass = export_pass
        self.version = version
        self.options = dict(profile.options or {})
        self.test_mode = run.mode == "test"

    @classmethod
    def check_options(cls, export_type, options):
        """Raise ExportError when the profile's options cannot work for this export type."""

    @classmethod
    def check_start(cls, profile, mode):
        """Raise ExportError when a run of ``profile`` in ``mode`` may not start or export now."""

    @classmethod
    def run_issues(cls, profile, mode):
        """Findings about the run as a whole (``types.base.Issue``), put first in its report when it is
        prepared, before any row's: e.g. Visma.net's integration account is not authorised, which
        otherwise shows only as every row's "not mapped". Default: none."""
        return []

    @classmethod
    def row_checks(cls, profile, company_id, record_key):
        """The provider's row validations (``types.sql.Check``, after the type's own) for ``profile``,
        over a row whose company id and record key are the SQL expressions ``company_id`` and
        ``record_key`` (the source's columns while preparing set-based, ``prepared_rows``' row by row).
        Default: none."""
        return []

    def begin(self):
        pass

    def deliver(self, batch):
        raise NotImplementedError

    def flush(self):
        """Results (``RowResult``) of rows held back until the end; called after the last batch."""
        return []

    def finish(self):
        """Complete the delivery; returns the files produced (``DeliveredFile``), if any."""
        return []

    def abort(self):
        """Undo partial output after a failure (e.g. remove a half-written file)."""
