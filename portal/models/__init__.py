"""Every table of the portal. Importing this package registers them all with the metadata."""
from .base import TimestampMixin, utcnow  # noqa: F401
from .user import Permission, ROLES, User  # noqa: F401
from .source import (  # noqa: F401
    Company, CostCentre, CostUnit, Debtor, Department, Employee, InvoiceLine, JournalLine, KitComponent,
    Payment, Product, PurchaseOrder, PurchaseOrderLine, Supplier, TimeRegistration,
)
from .exporting import (  # noqa: F401
    ExportProfile, LedgerCurrent, LedgerEntry, MappingHistoryEntry, PreparedRow, ReportItem, Run, RunAttempt,
    RunFile,
)
from .integration import AdministrationMapping, DimensionMapping, IntegrationAccount  # noqa: F401
from . import sandbox  # noqa: F401,E402  (the Visma.net sandbox's tables)
from .visma_delivery import SyncStop, VismaDocument  # noqa: F401,E402  (the Visma.net provider)
from . import overview  # noqa: F401,E402  (indexes for the pages)
from .user import UserSession  # noqa: F401,E402  (server-side sessions: sign-out ends them)
from .audit import AuditEntry  # noqa: F401,E402  (the audit log)
