"""The Visma.net provider: sends a run's rows to the Visma.net ERP API through an integration account.

- journal entries → ``POST /v2/journaltransaction`` (one per company and period), invoices →
  ``POST /v2/customerinvoice`` (one per invoice), payments → ``POST /v1/customerPayment``, purchase orders →
  ``POST /v1/purchaseorder`` (one per order), products → ``POST /v1/inventory`` (and for an item with a
  calculation ``POST /v1/KitSpecifications``). Hours have no home at Visma.net: such a profile is refused.
- A **test run** builds and validates every document and keeps it (``VismaDocument``, state ``test``) so
  that the pages can show it; it calls nothing at Visma.net.
- A **production run** sends document by document, in the engine's batches, and answers per row:
  processed (with the Visma.net number, kept on the document) or an error with Visma.net's
  ``ExceptionMessage`` verbatim.
- **Idempotent**: a document is written ``sending`` (committed) before it is posted. A retry — after a
  time-out or 5xx on the POST, or after a crash between sending and recording — finds it ``sending`` and
  looks it up at Visma.net by its reference before posting again; one found ``sent`` is never posted again.
- **Stop on error** (payments, purchase orders, products; seed 004): the first record Visma.net rejects
  (not a row the portal refuses itself, e.g. of a company not mapped to a branch: that row is an error
  — found at prepare already, ``row_checks`` — and the rest is sent) stops the profile's sync
  (``SyncStop``, with Visma.net's message as it came); production runs of the profile are refused until
  someone resumes (``resume``), which exports the stopped run again from that record. Journals and
  invoices go on with the next record instead (Prepare/Export: partially processed).
"""
import json
import logging
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...i18n import org_timezone
from ...integrations.services import account_problem
from ...integrations.visma import (
    ReauthorisationRequired, VismaNetApiError, VismaNetClient, VismaNetUncertain, VismaNetUnavailable,
)
from ...models import (
    AdministrationMapping, Company, DimensionMapping, IntegrationAccount, KitComponent, Product, User, utcnow,
)
from ...models.exporting import ExportProfile, LedgerCurrent, PreparedRow, ReportItem, Severity
from ...models.visma_delivery import SyncStop, VismaDocument
from ...sandbox import spec
from .. import sync
from ..errors import ExportError, TransientError
from ..messages import report_message
from ..types import sql
from . import register
from . import visma_payloads as payloads
from .base import Provider, RowResult
from ...validation import parse_id

log = logging.getLogger(__name__)

# Words for the pages that show a stopped sync (the profile page and the dashboard's system messages).
SYSTEM_MESSAGE = _l("System message")
SYNC_STOPPED = _l("The sync has stopped until the problem is solved.")
RESUME = _l("Resume")

# The export types with a home at Visma.net, and those that stop on the first rejected record.
TYPES = ("journal_entries", "invoices", "payments", "purchase_orders", "products")
STOP_ON_ERROR = ("payments", "purchase_orders", "products")
OPTION_KEYS = ("account_id", "item_class_stock", "item_class_non_stock", "sales_account")


@register
class VismaNetProvider(Provider):
    key = "visma_net"
    label = _l("Visma.net")
    supports_removals = True       # a removal becomes a void, credit note, reversal, inactive item or report item
    finance_system = "visma_net"   # payments and orders of departments whose finance system is Visma.net
    per_row_results = True
    batch_size = 100

    # -- profile and start checks ------------------------------------------------------------------
    @classmethod
    def check_options(cls, export_type, options):
        options = options or {}
        if export_type.key not in TYPES:
            raise ExportError(_l("%(type)s cannot be sent to Visma.net: Visma.net has no place for them. "
                                 "Export them to a file instead."), code="no_home_at_visma_net",
                              type=export_type.label)
        unknown = sorted(set(options) - set(OPTION_KEYS))
        if unknown:
            raise ExportError(_l("Unknown option for Visma.net: %(option)s."), code="unknown_option",
                              option=unknown[0])
        account_id = options.get("account_id")
        account_id = parse_id(account_id)
        account = db.session.get(IntegrationAccount, account_id) if account_id is not None else None
        if account is None:
            raise ExportError(_l("Choose the integration account that sends to Visma.net."),
                              code="account_required")
        if export_type.key == "products":
            for name in ("item_class_stock", "item_class_non_stock"):
                if not str(options.get(name) or "").strip():
                    raise ExportError(_l("Enter the Visma.net item classes for stock items and for non-stock "
                                         "items."), code="item_classes_required")

    @classmethod
    def check_start(cls, profile, mode):
        if mode != "production":
            return
        stop = stop_state(profile)
        if stop is not None:
            raise ExportError(_l("The sync has stopped until the problem is solved (%(name)s). System message "
                                 "from Visma.net: %(system_message)s — Resume the sync once the problem is "
                                 "solved."), code="sync_stopped", name=profile.name, system_message=stop.message)
        account = db.session.get(IntegrationAccount, int((profile.options or {}).get("account_id") or 0))
        problem = account_problem(account)
        if problem is not None:
            raise ExportError(_l("%(name)s cannot send to Visma.net: %(problem)s"), code="account_problem",
                              name=profile.name, problem=str(problem))

    @classmethod
    def row_checks(cls, profile, company_id, record_key):
        """A row whose company has no administration mapping in the profile's integration account is
        invalid from prepare on (``visma_not_mapped``, with the company's name): one ``NOT EXISTS`` per
        row, in the statement that prepares it. ``_document`` still refuses such a row at delivery (a
        mapping removed between prepare and export)."""
        account_id = parse_id((profile.options or {}).get("account_id"))
        if account_id is None or company_id is None:
            return []                  # no account: ``begin`` refuses the delivery as a whole
        mapping = AdministrationMapping.__table__
        mapped = (select(literal(1)).select_from(mapping)
                  .where(mapping.c.account_id == account_id, mapping.c.company_id == company_id)
                  .correlate_except(mapping).exists())
        named = Company.__table__.alias("unmapped_company")
        name = select(named.c.name).where(named.c.id == company_id).correlate_except(named).scalar_subquery()
        return [sql.Check("visma_not_mapped", ~mapped, [("company", name), ("record", record_key)])]

    # -- delivery ----------------------------------------------------------------------------------
    def begin(self):
        self.account = db.session.get(IntegrationAccount, int(self.options.get("account_id") or 0))
        if self.account is None:
            raise ExportError(_l("The integration account of %(name)s no longer exists."), code="account_missing",
                              name=self.profile.name)
        if not self.test_mode:
            self.check_start(self.profile, "production")
        self.branches = {m.company_id: m.branch_number for m in db.session.execute(
            select(AdministrationMapping).where(AdministrationMapping.account_id == self.account.id)).scalars()}
        self.dimensions = {m.kind: m.segment_id for m in db.session.execute(
            select(DimensionMapping).where(DimensionMapping.account_id == self.account.id,
                                           DimensionMapping.enabled.is_(True))).scalars()}
        self.company_names = dict(db.session.execute(select(Company.id, Company.name)).all())
        self.stop_on_error = getattr(self.export_type, "stop_on_error", self.export_type.key in STOP_ON_ERROR)
        self.pending = []           # the rows of a document that may continue in the next batch
        # Journals: the company-and-period journals a changed line moved out of or into. Their rows are
        # held until every batch is in (a moved line's reversal arrives with its new period's rows):
        # each such journal is then sent once, with every reversal and new line of its period (balanced).
        self.moved_groups = self._moved_groups() if self.export_type.key == "journal_entries" else set()
        self.held = {}
        self.kits = []              # products: kit specifications, sent after every item
        self.client = None
        if not self.test_mode:
            self.client = VismaNetClient(self.account)

    def deliver(self, batch):
        if self.stopped:
            return []
        kind = self.export_type.key
        # Full sync: a record unchanged since it was delivered is what Visma.net holds; nothing to send.
        results = [RowResult(r.row_id, True) for r in batch if r.mutation == "unchanged"]
        batch = [r for r in batch if r.mutation != "unchanged"]
        if kind in ("payments", "products"):
            rows = batch
            if kind == "products":     # raw materials first: a kit needs them to exist
                rows = sorted(batch, key=lambda r: r.payload.get("kind") != "raw_material")
            return results + self._send_each(rows)
        # Journals, invoices and orders: one document per group; the last may go on in the next batch.
        for row in batch:
            if self.moved_groups and _group(kind, row) in self.moved_groups:
                self.held.setdefault(_group(kind, row), []).append(row)
                continue
            if self.pending and _group(kind, self.pending[0]) != _group(kind, row):
                results.extend(self._document([*self.pending]))
                self.pending = []
                if self.stopped:
                    return results
            self.pending.append(row)
        return results

    def flush(self):
        results = []
        if self.pending and not self.stopped:
            results.extend(self._document(self.pending))
        self.pending = []
        if self.held and not self.stopped:
            results.extend(_per_row([result for group in sorted(self.held)
                                     for result in self._document(self.held[group])]))
        self.held = {}
        for row, kit_ref, kit_body, components in self.kits:
            if self.stopped:
                break
            results.extend(self._kit(row, kit_ref, kit_body, components))
        self.kits = []
        return results

    def _moved_groups(self):
        """The journals (company, period) that a changed line of this run moved out of or into: the
        group of what was delivered (the ledger) differs from the group of the new version."""
        found = db.session.execute(
            select(LedgerCurrent.payload, PreparedRow.payload)
            .join(LedgerCurrent, (LedgerCurrent.profile_id == self.profile.id)
                  & (LedgerCurrent.record_key == PreparedRow.record_key))
            .where(PreparedRow.run_id == self.run.id, PreparedRow.mutation == "changed",
                   PreparedRow.processed.is_(False), PreparedRow.group_key != LedgerCurrent.group_key)
            .execution_options(yield_per=1000))
        groups = set()
        for payloads_ in found:
            for payload in payloads_:
                payload = json.loads(payload) if isinstance(payload, str) else (payload or {})
                groups.add((payload.get("company_code"), str(payload.get("journal_period"))))
        return groups

    def _send_each(self, rows):
        results = []
        kit_components = self._components(rows) if self.export_type.key == "products" else {}
        for row in rows:
            if self.stopped:
                break
            results.extend(self._document([row], kit_components))
        return results

    def _document(self, rows, kit_components=None):
        """Build one document from ``rows`` and send it (or, in a test run, keep it). New records are
        created; a changed or removed one becomes what Visma.net allows for its type (README)."""
        first = rows[0].payload
        company_id = first.get("company_id")
        branch = self.branches.get(company_id)
        if branch is None:
            # Refused by the portal (not by Visma.net): a row error by rule, never a stop; the rest goes on.
            return [RowResult(r.row_id, False, None, code="visma_not_mapped", refused=True,
                              params={"company": self.company_names.get(company_id, company_id)}) for r in rows]
        kind = self.export_type.key
        company = first.get("company_code")
        if kind == "journal_entries":
            return self._journal(rows, branch, company)
        if kind == "invoices":
            return self._invoice(rows, branch, company)
        if kind == "payments":
            return self._payment(rows[0], branch, company)
        if kind == "purchase_orders":
            return self._order(rows, branch, company)
        return self._product(rows[0], company, kit_components)

    # -- per type ------------------------------------------------------------------------------------
    def _journal(self, rows, branch, company):
        """New lines, and for a changed or removed line the reversal of what was delivered (the engine
        gives it, debit and credit swapped) next to the new version: one journal per company and
        period, which balances."""
        first = rows[0].payload
        natural = f"journal:{company}/{first['journal_period']}"
        version = self._sent_count(natural)
        ref, body = payloads.journal_transaction([r.payload for r in rows], branch, self.dimensions, version)
        operation = "new" if all(r.mutation == "new" for r in rows) else "correction"
        return self._send("POST", payloads.KINDS["journaltransaction"], "journaltransaction", rows, ref, body,
                          natural, operation)

    def _invoice(self, rows, branch, company):
        """A new invoice is created. A changed or removed one: the delivered version is credited (a
        customer credit note with its lines), then the new version is created (none when every line
        is gone)."""
        first = rows[0].payload
        natural = f"invoice:{company}/{first['invoice_number']}"
        sales = self.options.get("sales_account")
        live = [r for r in rows if r.mutation != "removed"]
        path = payloads.KINDS["customerinvoice"]
        # Lines delivered under another company (the invoice moved since): that invoice is credited first.
        for delivered, moved in self._moved_out(rows, natural, "invoice", "invoice_number").items():
            results = self._credit_moved_lines(delivered, moved)
            if not all(r.ok for r in results):
                return _all_failed(rows, results)
        previous = self._latest(natural, kinds=("customerinvoice",), sent_only=True)
        if previous is None:
            if not live:
                return self._by_hand(rows, None, natural)
            ref, body = payloads.customer_invoice([r.payload for r in live], branch, sales)
            return self._send("POST", path, "customerinvoice", live, ref, body, natural, "new") + \
                self._by_hand([r for r in rows if r.mutation == "removed"], None, natural)
        touched = {r.record_key for r in rows}
        kept = [(key, line) for key, line in zip(previous.record_keys, previous.body.get("invoiceLines") or [])
                if key not in touched]
        ref = body = None
        if live:
            ref, body = payloads.customer_invoice([r.payload for r in live], branch, sales,
                                                  kept=[line for _key, line in kept])
            order = sorted([(line["lineNumber"]["value"], key) for key, line in kept]
                           + [(int(r.payload.get("line_no") or 0), r.record_key) for r in live])
            keys = [key for _n, key in order]
        elif kept:
            ref, body = payloads.new_invoice_version(previous.body, [line for _key, line in kept])
            keys = [key for key, _line in kept]
        if ref is not None and ref == previous.reference:
            return [RowResult(r.row_id, True) for r in rows]      # Visma.net holds exactly this version
        booked = payloads.as_date(first.get("booking_date") or first.get("invoice_date")) if live else None
        credit_ref, credit = payloads.credit_note(previous.body, previous.visma_number, natural[8:], on=booked)
        results = self._send("POST", payloads.KINDS["customerCreditNote"], "customerCreditNote", rows, credit_ref,
                             credit, natural, "credit_note", keys=list(previous.record_keys))
        if body is None or not all(r.ok for r in results):
            return results
        return self._send("POST", path, "customerinvoice", rows, ref, body, natural, "new_version", keys=keys)

    def _payment(self, row, branch, company):
        """A new payment is created. A changed one: the delivered payment is voided and the new one
        created; a removed one is voided. The delivered payment is the one of the company it was delivered
        for: a payment moved to another company is voided there, and created under its new company."""
        p = row.payload
        natural = f"payment:{company}/{p['receipt_number']}"
        delivered = next(iter(self._moved_out([row], natural, "payment", "receipt_number")), natural)
        previous = self._latest(delivered, kinds=("customerPayment",), sent_only=True)
        if row.mutation in ("changed", "removed") and previous is not None and previous.visma_number:
            void_ref = payloads.reference(f"VOID {previous.reference}", {"of": previous.reference})
            results = self._send("POST", f"/v1/customerPayment/{previous.visma_number}/action/void",
                                 "customerPaymentVoid", [row], void_ref, payloads.void_payment(previous.body),
                                 delivered, "void", number=previous.visma_number)
            if row.mutation == "removed" or not all(r.ok for r in results):
                return results
        elif row.mutation == "removed":
            return self._by_hand([row], None, natural)
        ref, body = payloads.customer_payment(p, branch, _local_date(p["paid_at"]))
        return self._send("POST", payloads.KINDS["customerPayment"], "customerPayment", [row], ref, body, natural,
                          "new")

    def _order(self, rows, branch, company):
        """A new order is created. A changed one is updated (``PUT``: its lines inserted, updated or
        deleted by line number). An order removed as a whole cannot be taken back through the API:
        a report item names it, to be cancelled at Visma.net by hand."""
        first = rows[0].payload
        natural = f"order:{company}/{first['order_number']}"
        # An order delivered under another company (it moved since): that order is named to cancel by hand.
        for delivered, moved in self._moved_out(rows, natural, "order", "order_number").items():
            results = self._report_moved_order(delivered, moved)
            if not all(r.ok for r in results):
                return _all_failed(rows, results)
        previous = self._latest(natural, kinds=("purchaseorder",), sent_only=True)
        live = [r for r in rows if r.mutation != "removed"]
        if previous is None:
            if not live:
                return self._by_hand(rows, None, natural)
            ref, body = payloads.purchase_order([r.payload for r in live], branch)
            return self._send("POST", payloads.KINDS["purchaseorder"], "purchaseorder", live, ref, body, natural,
                              "new") + self._by_hand([r for r in rows if r.mutation == "removed"], None, natural)
        removed = {r.record_key for r in rows if r.mutation == "removed"}
        if not live and set(previous.record_keys) <= removed:
            return self._by_hand(rows, previous, natural)
        operations = {"new": "Insert", "changed": "Update", "removed": "Delete"}
        changes = [(r.payload, operations.get(r.mutation, "Update")) for r in rows]
        ref, body = payloads.purchase_order_update(changes, natural)
        return self._send("PUT", f"{payloads.KINDS['purchaseorder']}/{previous.visma_number}", "purchaseorderUpdate",
                          rows, ref, body, natural, "update", number=previous.visma_number)

    # -- records moved to another company -------------------------------------------------------------
    def _moved_out(self, rows, natural, prefix, number_field):
        """{natural key of the delivered document: [rows]} for the changed ``rows`` that were delivered
        under another company than they have now (the ledger's payload: what was delivered). Visma.net
        holds their document under that company's reference; ``natural`` is the one they have now."""
        changed = [r for r in rows if r.mutation == "changed"]
        if not changed:
            return {}
        delivered = sync.delivered_payloads(self.profile.id, [r.record_key for r in changed])
        moved = {}
        for row in changed:
            was = delivered.get(row.record_key) or {}
            if was.get("company_code") is None or was.get(number_field) is None:
                continue
            earlier = f"{prefix}:{was['company_code']}/{was[number_field]}"
            if earlier != natural:
                moved.setdefault(earlier, []).append(row)
        return moved

    def _credit_moved_lines(self, delivered, moved):
        """Invoice lines that moved to another company: the invoice they were delivered in (``delivered``)
        is credited, and created again with its other lines, if any. Nothing when that invoice no longer
        holds them (credited by an earlier attempt) or the portal holds no document of it."""
        previous = self._latest(delivered, kinds=("customerinvoice",), sent_only=True)
        keys = {r.record_key for r in moved}
        if previous is None or not keys & set(previous.record_keys):
            return []
        kept = [(key, line) for key, line in zip(previous.record_keys, previous.body.get("invoiceLines") or [])
                if key not in keys]
        first = moved[0].payload
        booked = payloads.as_date(first.get("booking_date") or first.get("invoice_date"))
        credit_ref, credit = payloads.credit_note(previous.body, previous.visma_number, delivered[8:], on=booked)
        results = self._send("POST", payloads.KINDS["customerCreditNote"], "customerCreditNote", moved, credit_ref,
                             credit, delivered, "credit_note", keys=list(previous.record_keys))
        if not kept or not all(r.ok for r in results):
            return results
        ref, body = payloads.new_invoice_version(previous.body, [line for _key, line in kept])
        return self._send("POST", payloads.KINDS["customerinvoice"], "customerinvoice", moved, ref, body, delivered,
                          "new_version", keys=[key for key, _line in kept])

    def _report_moved_order(self, delivered, moved):
        """An order moved to another company (its lines go with it): Visma.net's API cannot cancel the order
        delivered under the old company (``delivered``), so a report item names it, to be cancelled at
        Visma.net by hand. Nothing when the portal holds no document of it."""
        previous = self._latest(delivered, kinds=("purchaseorder",), sent_only=True)
        if previous is None:
            return []
        return self._by_hand(moved, previous, delivered)

    def _product(self, row, company, kit_components):
        """A new product is created (a kit then gets its kit specification); a changed one is updated
        (``PUT`` of the inventory item, and of its kit specification); a removed one is set inactive."""
        first = row.payload
        natural = f"inventory:{company}/{first['item_code']}"
        previous = self._latest(natural, kinds=("inventory",), sent_only=True)
        item_path = f"{payloads.KINDS['inventory']}/{first['item_code']}"
        if row.mutation == "removed":
            if previous is None:
                return self._by_hand([row], None, natural)
            ref, body = payloads.inventory_deactivation(first)
            return self._send("PUT", item_path, "inventoryUpdate", [row], ref, body, natural, "deactivate",
                              number=first["item_code"])
        ref, body = payloads.inventory_item(first, self.options["item_class_stock"],
                                            self.options["item_class_non_stock"])
        if previous is None:
            results = self._send("POST", payloads.KINDS["inventory"], "inventory", [row], ref, body, natural, "new")
        else:
            results = self._send("PUT", item_path, "inventoryUpdate", [row], ref, body, natural, "update",
                                 number=first["item_code"])
        if first["kind"] == "kit" and all(r.ok for r in results):
            components = (kit_components or {}).get((first.get("company_id"), first["item_code"]), [])
            kit_ref, kit_body = payloads.kit_specification(first, [c[:3] for c in components])
            self.kits.append((row, kit_ref, kit_body, components))
            return []      # the row's result comes with its kit specification (flush)
        return results

    def _kit(self, row, ref, kit_body, components=()):
        """A kit's specification, after every item of the run; the raw materials it needs that
        Visma.net does not have yet are sent first (they may fall outside the run's window)."""
        results = self._missing_components(row, components)
        if not all(r.ok for r in results):
            return [RowResult(row.row_id, False, results[-1].message, code=results[-1].code,
                              params=results[-1].params)]
        first = row.payload
        natural = f"kit:{first['company_code']}/{first['item_code']}"
        previous = self._latest(natural, kinds=("KitSpecifications",), sent_only=True)
        if previous is None:
            return self._send("POST", payloads.KINDS["KitSpecifications"], "KitSpecifications", [row], ref, kit_body,
                              natural, "new")
        if previous.reference == ref:
            return [RowResult(row.row_id, True)]
        revision = (previous.visma_number or f"{first['item_code']}/1").split("/", 1)[-1]
        update = payloads.kit_specification_update(kit_body, previous.body)
        return self._send("PUT", f"{payloads.KINDS['KitSpecifications']}/{first['item_code']}/{revision}",
                          "KitSpecifications", [row], ref, update, natural, "update",
                          number=previous.visma_number)

    def _missing_components(self, row, components):
        """Send the kit's raw materials that Visma.net lacks (and this run did not send) — as stock items."""
        results = []
        company = row.payload["company_code"]
        for code, _quantity, _unit, component in components:
            if component is None:
                continue
            natural = f"inventory:{company}/{code}"
            if self._latest(natural, kinds=("inventory", "inventoryUpdate"), sent_only=True) is not None:
                continue
            if not self.test_mode and self._guarded(self._exists, code):
                continue
            ref, body = payloads.inventory_item(component, self.options["item_class_stock"],
                                                self.options["item_class_non_stock"])
            sent = self._send("POST", payloads.KINDS["inventory"], "inventory", [row], ref, body, natural,
                              "component", keys=[f"{company}/{code}"], stop=False)
            results.extend(sent)
            if not all(r.ok for r in sent):
                if self.stop_on_error:
                    self._stop(row, sent[-1].message)
                break
        return results

    def _exists(self, code):
        db.session.commit()      # no transaction open while Visma.net is asked (SQLite: the sandbox writes)
        try:
            self.client.get_json(f"{payloads.KINDS['inventory']}/{code}")
            return True
        except VismaNetApiError as exc:
            if exc.status == 404:
                return False
            raise

    def _by_hand(self, rows, previous, natural):
        """Where Visma.net allows nothing: a report item naming the Visma.net document, for someone to
        correct it by hand. The rows are processed (the report carries them)."""
        if not rows:
            return []
        document = previous.visma_number if previous is not None else None
        for row in rows:
            db.session.add(ReportItem(run_id=self.run.id, row_id=row.row_id, record_key=row.record_key,
                                      severity=Severity.WARNING, code="visma_by_hand",
                                      params={"record": row.record_key, "document": document or "–",
                                              "kind": natural.split(":", 1)[0]}))
        db.session.commit()
        return [RowResult(r.row_id, True) for r in rows]

    def _components(self, rows):
        """The raw materials of the kits among ``rows``:
        {(company id, item code): [(code, qty, unit, component payload)]}."""
        kits = {(r.payload.get("company_id"), r.payload["item_code"]) for r in rows if r.payload.get("kind") == "kit"}
        if not kits:
            return {}
        component = aliased(Product)
        found = {}
        stmt = (select(Product.company_id, Product.item_code, component, KitComponent.quantity)
                .join(KitComponent, KitComponent.product_id == Product.id)
                .join(component, component.id == KitComponent.component_id)
                .where(Product.item_code.in_([code for _c, code in kits]))
                .order_by(Product.item_code, component.item_code))
        codes = {company_id: code for company_id, code in db.session.execute(select(Company.id, Company.code))}
        for company_id, code, comp, quantity in db.session.execute(stmt):
            if (company_id, code) in kits:
                payload = {"company_code": codes.get(comp.company_id), "item_code": comp.item_code,
                           "description": comp.description, "unit": comp.unit, "sales_price": comp.sales_price,
                           "kind": "raw_material" if comp.is_raw_material else
                           ("kit" if comp.has_calculation else "item")}
                found.setdefault((company_id, code), []).append((comp.item_code, quantity, comp.unit, payload))
        return found

    # -- one document --------------------------------------------------------------------------------
    def _send(self, method, path, kind, rows, ref, body, natural, operation, *, keys=None, number=None,
              stop=True):
        row_ids = [r.row_id for r in rows]
        keys = keys or [r.record_key for r in rows]
        meta = dict(method=method, natural=natural, operation=operation)
        if self.test_mode:
            problems = validate(path, body, method)
            self._keep(kind, path, ref, keys, row_ids, body, "invalid" if problems else "test",
                       message="\n".join(problems) or None, **meta)
            if problems:
                return [RowResult(i, False, None, code="visma_invalid_document",
                                  params={"problem": problems[0]}) for i in row_ids]
            return [RowResult(i, True) for i in row_ids]
        done = self._already_sent(kind, ref, natural, method)
        if done is None:
            done = self._post(path, kind, ref, keys, row_ids, body, number=number, **meta)
        elif done.run_id != self.run.id:
            # Sent by an earlier run (or by this record's earlier attempt): not posted again; this run's
            # page still shows the document, with the number Visma.net gave it then.
            copy = self._keep(kind, path, ref, keys, row_ids, body, "sent", commit=False, **meta)
            copy.visma_number, copy.location, copy.sent_at = done.visma_number, done.location, utcnow()
            db.session.commit()
        if done.state == "sent":
            return [RowResult(i, True) for i in row_ids]
        # Rejected by Visma.net: the record's error, with Visma.net's own message.
        if self.stop_on_error and stop:
            self._stop(rows[0], done.message)
        return [RowResult(i, False, done.message, code="provider_rejected") for i in row_ids]

    def _keep(self, kind, path, ref, keys, row_ids, body, state, message=None, commit=True, method="POST",
              natural=None, operation="new"):
        document = VismaDocument(run_id=self.run.id, profile_id=self.profile.id, account_id=self.account.id,
                                 mode=self.run.mode, kind=kind, path=path, reference=ref, record_keys=keys,
                                 row_ids=row_ids, body=body, state=state, message=message, method=method,
                                 natural=natural, operation=operation)
        db.session.add(document)
        if commit:
            db.session.commit()
        return document

    def _latest(self, natural, kinds=None, sent_only=False):
        """The latest production document of the record ``natural`` (what Visma.net holds of it)."""
        stmt = select(VismaDocument).where(VismaDocument.account_id == self.account.id,
                                           VismaDocument.natural == natural, VismaDocument.mode == "production",
                                           VismaDocument.state.in_(("sent",) if sent_only else ("sent", "sending")))
        if kinds:
            stmt = stmt.where(VismaDocument.kind.in_(kinds))
        return db.session.execute(stmt.order_by(VismaDocument.id.desc()).limit(1)).scalar()

    def _sent_count(self, natural):
        """How many documents of ``natural`` earlier runs sent (a journal's version). Not this run's: a
        second attempt of the run (after a worker was lost between sending and recording) builds the
        same document with the same reference, finds it sent, and does not post it again."""
        return db.session.execute(select(func.count()).where(
            VismaDocument.account_id == self.account.id, VismaDocument.natural == natural,
            VismaDocument.mode == "production", VismaDocument.state == "sent",
            VismaDocument.run_id != self.run.id)).scalar()

    def _already_sent(self, kind, ref, natural, method="POST"):
        """The record's latest document, when it is this very document (same kind and reference): sent —
        or perhaps sent, by an attempt that never heard the answer. Then it is not sent again."""
        earlier = self._latest(natural)
        if earlier is None or earlier.kind != kind or earlier.reference != ref:
            return None
        if earlier.state == "sent":
            return earlier
        # Posted before, but the answer was never recorded (a crash, a time-out): ask Visma.net.
        number = self._guarded(self._look_up, kind, ref, earlier.body, earlier) if method == "POST" else None
        if number is None:
            earlier.state = "lost"      # it never arrived (or an update, which is sent again): send it again
            db.session.commit()
            return None
        earlier.state, earlier.visma_number, earlier.sent_at = "sent", number, utcnow()
        db.session.commit()
        log.info("run %s: %s %s was already at Visma.net (%s); not sent again", self.run.id, kind, ref, number)
        return earlier

    def _post(self, path, kind, ref, keys, row_ids, body, *, method="POST", natural=None, operation="new",
              number=None):
        document = self._keep(kind, path, ref, keys, row_ids, body, "sending", method=method, natural=natural,
                              operation=operation)   # committed before it is sent
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self.client.request(method, path, json=body, retry_uncertain=False)
            except VismaNetUncertain as exc:
                # The body may have arrived: look before sending again.
                log.warning("run %s: %s %s uncertain (%s); looking it up", self.run.id, kind, ref, exc)
                number = self._guarded(self._look_up, kind, ref, body, document) if method == "POST" else None
                if number is not None:
                    return self._sent(document, number, None)
                if attempt >= self.client.max_attempts:
                    raise TransientError(f"Visma.net did not answer {path} after {attempt} attempts ({exc})",
                                         problem=f"visma_{exc.problem}") from None
                self.client.sleep(self.client._backoff(attempt))
                continue
            except VismaNetApiError as exc:
                document.state, document.message = "rejected", exc.exception_message
                db.session.commit()
                return document
            except ReauthorisationRequired as exc:
                raise _reauthorise(self.account, exc) from None
            except VismaNetUnavailable as exc:
                raise _temporary(exc) from None
            if number is not None:       # an update or an action on a document Visma.net already numbered
                return self._sent(document, number, None)
            return self._sent(document, _number(kind, answer), answer.location)

    def _guarded(self, function, *args):
        try:
            return function(*args)
        except ReauthorisationRequired as exc:
            raise _reauthorise(self.account, exc) from None
        except VismaNetUnavailable as exc:
            raise _temporary(exc) from None

    def _sent(self, document, number, location):
        document.state, document.visma_number, document.location = "sent", number, location
        document.sent_at = utcnow()
        db.session.commit()
        return document

    def _look_up(self, kind, ref, body, document=None):
        """Visma.net's number of the document with our reference, or None when it has none."""
        db.session.commit()      # no transaction open while Visma.net is asked
        client = self.client
        value = lambda name: (body.get(name) or {}).get("value")  # noqa: E731
        if kind == "journaltransaction":
            for item in client.iter_pages(payloads.KINDS[kind], {"periodId": value("financialPeriod")}):
                if f"[{ref}]" in (item.get("description") or ""):
                    return item.get("batchNumber")
        elif kind == "customerinvoice":
            for item in client.get_json("/v1/customerinvoice", {"externalReference": ref}) or []:
                return item.get("referenceNumber")
        elif kind == "customerPayment":
            for item in client.iter_pages(payloads.KINDS[kind], {"customer": value("customer"),
                                                                 "financialPeriod": value("applicationPeriod")}):
                if item.get("paymentRef") == ref:
                    return item.get("refNbr")
        elif kind == "purchaseorder":
            for item in client.iter_pages(payloads.KINDS[kind], {"supplier": value("supplier")}):
                if item.get("supplierRef") == ref:
                    return item.get("orderNumber")
        elif kind == "inventory":
            number = value("inventoryNumber")
            for item in client.get_json("/v1/inventory", {"inventoryNumber": number}) or []:
                if item.get("inventoryNumber") == number:
                    return number
        elif kind == "customerCreditNote":
            for item in client.get_json("/v1/customerCreditNote", {"externalReference": ref}) or []:
                return item.get("referenceNumber")
        elif kind == "customerPaymentVoid" and document is not None:
            number = document.path.split("/")[3]
            found = client.get_json(f"/v1/customerPayment/{number}") or {}
            if found.get("status") == "Voided":
                return number
        elif kind == "KitSpecifications":
            found = client.get_json("/v1/KitSpecifications", {"kitInventoryID": value("kitInventoryID")}) or {}
            for item in found.get("records") or []:
                return f"{item.get('kitInventoryID')}/{item.get('revision')}"
        return None

    def _stop(self, row, message):
        """Stop on error: the profile's sync stops at this record until someone resumes it."""
        self.stopped = True
        db.session.add(SyncStop(profile_id=self.profile.id, run_id=self.run.id, row_id=row.row_id,
                                record_key=row.record_key, message=message or ""))
        db.session.add(ReportItem(run_id=self.run.id, row_id=row.row_id, record_key=row.record_key,
                                  severity=Severity.ERROR, code="sync_stopped", params={"record": row.record_key},
                                  provider_message=message))
        db.session.commit()


def _temporary(exc):
    """Visma.net (or Visma Connect) unavailable after the client's retries: a temporary error of the run,
    saying what happened (the client's technical text goes to the log only)."""
    return TransientError(str(exc), problem=f"visma_{exc.problem}")


def _local_date(value):
    """A stored UTC time as the organisation's local date (the day the payment was made there)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc).astimezone(org_timezone()).date()


def _all_failed(rows, results):
    """Every row of a document fails as ``results``' first failure did (nothing of it was sent)."""
    failed = next(r for r in results if not r.ok)
    return [RowResult(row.row_id, False, failed.message, code=failed.code, params=failed.params) for row in rows]


def _per_row(results):
    """One result per row: a row whose lines went into two documents (a moved journal line: its
    reversal in the old period, its new version in the new one) is delivered only if both were."""
    merged = {}
    for result in results:
        if result.row_id not in merged or (merged[result.row_id].ok and not result.ok):
            merged[result.row_id] = result
    return list(merged.values())


def _group(kind, row):
    p = row.payload
    if kind == "journal_entries":
        return (p.get("company_code"), str(p.get("journal_period")))
    if kind == "invoices":
        return (p.get("company_code"), p.get("invoice_number"))
    return (p.get("company_code"), p.get("order_number"))


def _number(kind, answer):
    """The number Visma.net gave: the end of ``Location`` (a kit's is ``<kit>/<revision>``)."""
    location = (answer.location or "").rstrip("/")
    if kind == "KitSpecifications" and "/KitSpecifications/" in location:
        return location.split("/KitSpecifications/", 1)[1]
    return answer.resource_id


def _reauthorise(account, exc):
    return ExportError(_l("Visma.net no longer accepts the authorisation of the integration account "
                          "%(account)s; the export stopped. Authorise the account again on its page, then export "
                          "again. (%(reason)s)"), code="account_reauthorise", account=account.name,
                       reason=exc.reason or str(exc))


# -- validation against the OpenAPI description ----------------------------------------------------------

def validate(path, body, method="POST"):
    """Problems of ``body`` as a ``method`` to ``path`` against Visma.net's OpenAPI description (empty: fine).

    Uses the real description (``shared/contracts``); where it is not installed, nothing can be checked
    here and Visma.net itself checks on sending."""
    try:
        spec.validators()
    except (FileNotFoundError, ImportError) as exc:
        log.info("Visma.net's OpenAPI description is not available (%s); payloads are not checked here", exc)
        return []
    return spec.validate(method, path, [], json.dumps(body).encode("utf-8"), "application/json")


# -- services for the pages ---------------------------------------------------------------------------

def _profile_id(profile):
    return profile if isinstance(profile, int) else profile.id


SKIP_REASON_MAX = 500


def stop_state(profile, lock=False):
    """The profile's active stop (``SyncStop``: record, Visma.net's message, when), or None. ``lock``:
    held until the transaction ends (whoever lifts it; a second lift then finds no stop)."""
    stmt = (select(SyncStop).where(SyncStop.profile_id == _profile_id(profile), SyncStop.resumed_at.is_(None))
            .order_by(SyncStop.id.desc()).limit(1))
    return db.session.execute(stmt.with_for_update() if lock else stmt).scalar()


def stopped_profiles():
    """Every profile whose sync is stopped, with its stop (for the dashboard's system messages)."""
    return db.session.execute(
        select(ExportProfile, SyncStop).join(SyncStop, SyncStop.profile_id == ExportProfile.id)
        .where(SyncStop.resumed_at.is_(None)).order_by(SyncStop.stopped_at.desc())).all()


def lift_stop(profile, *, user=None, skip_reason=None):
    """Lift the stop of a profile's sync (the first half of ``services.resume_sync`` and
    ``services.skip_sync_record``), recorded in the stopped run's history: the stop itself (who lifted
    it, when, and a skip's reason: ``run_history``) and a line of its report. With ``skip_reason``
    (consultants) the rejected record is skipped: it becomes an error of its run (not sent, not "left").
    Returns the stop; the caller commits (with its audit entry)."""
    stop = stop_state(profile, lock=True)
    if stop is None:
        raise ExportError(_l("The sync of this export profile has not stopped."), code="not_stopped")
    if skip_reason is not None:
        skip_reason = skip_reason.strip()
        if not skip_reason:
            raise ExportError(_l("Give a reason for skipping the record."), code="skip_reason_required")
        if len(skip_reason) > SKIP_REASON_MAX:
            raise ExportError(_l("Keep the reason to %(count)s characters or fewer."), code="skip_reason_too_long",
                              count=SKIP_REASON_MAX)
        stop.skip_reason = skip_reason
        row = db.session.get(PreparedRow, stop.row_id) if stop.row_id is not None else None
        if row is not None and not row.processed:
            row.invalid = True
            row.error = report_message("sync_skipped", {"record": stop.record_key, "reason": skip_reason,
                                                        "user": _user_name(user)})
    stop.resumed_at = utcnow()
    stop.resumed_by_id = user if isinstance(user, int) or user is None else user.id
    if stop.run_id is not None:
        code = "sync_resumed" if skip_reason is None else "sync_skipped"
        params = {"record": stop.record_key, "user": _user_name(user)}
        if skip_reason is not None:
            params["reason"] = skip_reason
        db.session.add(ReportItem(run_id=stop.run_id, row_id=stop.row_id, record_key=stop.record_key,
                                  severity=Severity.INFO if skip_reason is None else Severity.WARNING, code=code,
                                  params=params))
    db.session.flush()
    return stop


def run_history(run_id):
    """The run's history of stopped syncs (seed 004), oldest first: when the sync stopped at which
    record with Visma.net's message, and who resumed it — or skipped the record, with the reason — when.
    [(stop, the user who lifted it or None)] for the run page."""
    lifted_by = aliased(User)
    return db.session.execute(
        select(SyncStop, lifted_by).outerjoin(lifted_by, lifted_by.id == SyncStop.resumed_by_id)
        .where(SyncStop.run_id == run_id).order_by(SyncStop.id)).all()


def _user_name(user):
    if user is None:
        return "–"
    if isinstance(user, int):
        user = db.session.get(User, user)
    return getattr(user, "name", None) or getattr(user, "email", None) or "–"


KIND_LABELS = {
    "journaltransaction": _l("Journal transaction"), "customerinvoice": _l("Customer invoice"),
    "customerCreditNote": _l("Credit note"), "customerPayment": _l("Customer payment"),
    "customerPaymentVoid": _l("Void of a customer payment"), "purchaseorder": _l("Purchase order"),
    "purchaseorderUpdate": _l("Purchase order update"), "inventory": _l("Inventory item"),
    "inventoryUpdate": _l("Inventory item update"), "KitSpecifications": _l("Kit specification"),
}
OPERATION_LABELS = {
    "new": _l("New"), "update": _l("Update"), "credit_note": _l("Credit note for the delivered version"),
    "new_version": _l("New version"), "void": _l("Void"), "deactivate": _l("Set inactive"),
    "correction": _l("Reversal and new version"), "component": _l("Raw material of a kit"),
}
STATE_LABELS = {
    "test": _l("Would be sent (test export)"), "invalid": _l("Invalid"), "sending": _l("Sending"),
    "sent": _l("Sent"), "rejected": _l("Rejected"), "lost": _l("Did not arrive; sent again"),
}


def document_summary(document):
    """A readable line about a document: what it is about, with its key figures."""
    from flask_babel import format_decimal, ngettext
    body = document.body or {}
    value = lambda name: (body.get(name) or {}).get("value") if isinstance(body.get(name), dict) \
        else body.get(name)  # noqa: E731
    money = lambda amount: format_decimal(amount or 0, format="#,##0.00")  # noqa: E731
    kind = document.kind
    if kind == "journaltransaction":
        lines = body.get("journalTransactionLines") or []
        debit = sum((line.get("debitAmountInCurrency") or {}).get("value") or 0 for line in lines)
        return ngettext("Period %(period)s, %(num)s line, debit %(debit)s",
                        "Period %(period)s, %(num)s lines, debit %(debit)s", len(lines),
                        period=value("financialPeriod"), debit=money(debit))
    if kind in ("customerinvoice", "customerCreditNote"):
        lines = body.get("invoiceLines") or body.get("lines") or []
        total = sum((line.get("manualAmountInCurrency") or {}).get("value") or 0 for line in lines)
        return ngettext("Customer %(customer)s, %(num)s line, %(amount)s",
                        "Customer %(customer)s, %(num)s lines, %(amount)s", len(lines),
                        customer=value("customerNumber"), amount=money(total))
    if kind == "customerPayment":
        return _l("Customer %(customer)s, %(amount)s by %(method)s") % {
            "customer": value("customer"), "amount": money(value("paymentAmount")), "method": value("paymentMethod")}
    if kind in ("purchaseorder", "purchaseorderUpdate"):
        lines = body.get("lines") or []
        return ngettext("%(num)s line", "%(num)s lines", len(lines))
    if kind in ("inventory", "inventoryUpdate"):
        return " · ".join(str(v) for v in (value("inventoryNumber"), value("description"), value("status")) if v)
    if kind == "KitSpecifications":
        lines = body.get("stockComponentLines") or []
        return ngettext("%(num)s component", "%(num)s components", len(lines))
    return document.path


def documents_export(run_id):
    """Every document of a run, as one JSON-able list (the download)."""
    return [{"kind": d.kind, "operation": d.operation, "method": d.method, "path": d.path,
             "reference": d.reference, "records": d.record_keys, "state": d.state,
             "visma_number": d.visma_number, "message": d.message, "body": d.body,
             "sent_at": d.sent_at.isoformat() + "Z" if d.sent_at else None}
            for d in db.session.execute(select(VismaDocument).where(VismaDocument.run_id == run_id)
                                        .order_by(VismaDocument.id).execution_options(yield_per=500)).scalars()]


def document_count(run_id):
    return db.session.execute(select(func.count()).where(VismaDocument.run_id == run_id)).scalar()


def documents(run_id, *, offset=0, limit=100):
    """The documents a run sent (or, in a test run, would send): payload, state, Visma.net's number and
    message — for the run's page."""
    return db.session.execute(select(VismaDocument).where(VismaDocument.run_id == run_id)
                              .order_by(VismaDocument.id).offset(offset).limit(limit)).scalars().all()


__all__ = ["VismaNetProvider", "stop_state", "stopped_profiles", "lift_stop", "run_history", "documents", "validate"]
