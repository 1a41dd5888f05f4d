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
  stops the profile's sync (``SyncStop``, with Visma.net's message as it came); production runs of the
  profile are refused until someone resumes (``resume``), which exports the stopped run again from that
  record. Journals and invoices go on with the next record instead (Prepare/Export: partially processed).
"""
import json
import logging
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...i18n import org_timezone
from ...integrations.services import account_problem
from ...integrations.visma import (
    ReauthorisationRequired, VismaNetApiError, VismaNetClient, VismaNetUncertain, VismaNetUnavailable,
)
from ...models import (
    AdministrationMapping, Company, DimensionMapping, IntegrationAccount, KitComponent, Product, utcnow,
)
from ...models.exporting import ExportProfile, ReportItem, Run
from ...models.visma_delivery import SyncStop, VismaDocument
from ...sandbox import spec
from ..errors import ExportError, TransientError
from . import register
from . import visma_payloads as payloads
from .base import Provider, RowResult

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
    supports_removals = False      # Visma.net documents are not taken back by the portal
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
        account = db.session.get(IntegrationAccount, int(account_id)) \
            if str(account_id or "").isdigit() else None
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
        self.kits = []              # products: kit specifications, sent after every item
        self.client = None
        if not self.test_mode:
            self.client = VismaNetClient(self.account)

    def deliver(self, batch):
        if self.stopped:
            return []
        kind = self.export_type.key
        if kind in ("payments", "products"):
            rows = batch
            if kind == "products":     # raw materials first: a kit needs them to exist
                rows = sorted(batch, key=lambda r: r.payload.get("kind") != "raw_material")
            return self._send_each(rows)
        # Journals, invoices and orders: one document per group; the last may go on in the next batch.
        results = []
        for row in batch:
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
        for row, kit_body in self.kits:
            if self.stopped:
                break
            results.extend(self._send(payloads.KINDS["KitSpecifications"], "KitSpecifications", [row],
                                      row.payload["item_code"], kit_body))
        self.kits = []
        return results

    def _send_each(self, rows):
        results = []
        kit_components = self._components(rows) if self.export_type.key == "products" else {}
        for row in rows:
            if self.stopped:
                break
            results.extend(self._document([row], kit_components))
        return results

    def _document(self, rows, kit_components=None):
        """Build one document from ``rows`` and send it (or, in a test run, keep it)."""
        first = rows[0].payload
        company_id = first.get("company_id")
        branch = self.branches.get(company_id)
        if branch is None:
            return [RowResult(r.row_id, False, None, code="visma_not_mapped",
                              params={"company": self.company_names.get(company_id, company_id)}) for r in rows]
        kind = self.export_type.key
        values = [r.payload for r in rows]
        if kind == "journal_entries":
            ref, body = payloads.journal_transaction(values, branch, self.dimensions)
            return self._send(payloads.KINDS["journaltransaction"], "journaltransaction", rows, ref, body)
        if kind == "invoices":
            ref, body = payloads.customer_invoice(values, branch, self.options.get("sales_account"))
            return self._send(payloads.KINDS["customerinvoice"], "customerinvoice", rows, ref, body)
        if kind == "payments":
            paid = _local_date(first["paid_at"])
            ref, body = payloads.customer_payment(first, branch, paid)
            return self._send(payloads.KINDS["customerPayment"], "customerPayment", rows, ref, body)
        if kind == "purchase_orders":
            ref, body = payloads.purchase_order(values, branch)
            return self._send(payloads.KINDS["purchaseorder"], "purchaseorder", rows, ref, body)
        # products
        ref, body = payloads.inventory_item(first, self.options["item_class_stock"],
                                            self.options["item_class_non_stock"])
        results = self._send(payloads.KINDS["inventory"], "inventory", rows, ref, body)
        if first["kind"] == "kit" and all(r.ok for r in results):
            components = (kit_components or {}).get((company_id, first["item_code"]), [])
            _ref, kit_body = payloads.kit_specification(first, components)
            self.kits.append((rows[0], kit_body))
            return []      # the row's result comes with its kit specification (flush)
        return results

    def _components(self, rows):
        """The raw materials of the kits among ``rows``: {(company id, item code): [(code, qty, unit)]}."""
        kits = {(r.payload.get("company_id"), r.payload["item_code"]) for r in rows if r.payload.get("kind") == "kit"}
        if not kits:
            return {}
        component = aliased(Product)
        found = {}
        stmt = (select(Product.company_id, Product.item_code, component.item_code, KitComponent.quantity,
                       component.unit)
                .join(KitComponent, KitComponent.product_id == Product.id)
                .join(component, component.id == KitComponent.component_id)
                .where(Product.item_code.in_([code for _c, code in kits]))
                .order_by(Product.item_code, component.item_code))
        for company_id, code, comp_code, quantity, unit in db.session.execute(stmt):
            if (company_id, code) in kits:
                found.setdefault((company_id, code), []).append((comp_code, quantity, unit))
        return found

    # -- one document --------------------------------------------------------------------------------
    def _send(self, path, kind, rows, ref, body):
        row_ids = [r.row_id for r in rows]
        keys = [r.record_key for r in rows]
        if self.test_mode:
            problems = validate(path, body)
            self._keep(kind, path, ref, keys, row_ids, body, "invalid" if problems else "test",
                       message="\n".join(problems) or None)
            if problems:
                return [RowResult(i, False, None, code="visma_invalid_document",
                                  params={"problem": problems[0]}) for i in row_ids]
            return [RowResult(i, True) for i in row_ids]
        done = self._already_sent(kind, ref)
        if done is None:
            done = self._post(path, kind, ref, keys, row_ids, body)
        elif done.run_id != self.run.id:
            # Sent by an earlier run (or by this record's earlier attempt): not posted again; this run's
            # page still shows the document, with the number Visma.net gave it then.
            copy = self._keep(kind, path, ref, keys, row_ids, body, "sent", commit=False)
            copy.visma_number, copy.location, copy.sent_at = done.visma_number, done.location, utcnow()
            db.session.commit()
        if done.state == "sent":
            return [RowResult(i, True) for i in row_ids]
        # Rejected by Visma.net: the record's error, with Visma.net's own message.
        if self.stop_on_error:
            self._stop(rows[0], done.message)
        return [RowResult(i, False, done.message, code="provider_rejected") for i in row_ids]

    def _keep(self, kind, path, ref, keys, row_ids, body, state, message=None, commit=True):
        document = VismaDocument(run_id=self.run.id, profile_id=self.profile.id, account_id=self.account.id,
                                 mode=self.run.mode, kind=kind, path=path, reference=ref, record_keys=keys,
                                 row_ids=row_ids, body=body, state=state, message=message)
        db.session.add(document)
        if commit:
            db.session.commit()
        return document

    def _already_sent(self, kind, ref):
        """A document with this reference that was sent (or may have been): found, not posted again."""
        earlier = db.session.execute(
            select(VismaDocument).where(VismaDocument.account_id == self.account.id, VismaDocument.kind == kind,
                                        VismaDocument.reference == ref, VismaDocument.mode == "production",
                                        VismaDocument.state.in_(("sent", "sending")))
            .order_by(VismaDocument.id.desc()).limit(1)).scalar()
        if earlier is None:
            return None
        if earlier.state == "sent":
            return earlier
        # Posted before, but the answer was never recorded (a crash, a time-out): ask Visma.net.
        number = self._look_up(kind, ref, earlier.body)
        if number is None:
            earlier.state = "lost"      # it never arrived: send it again
            db.session.commit()
            return None
        earlier.state, earlier.visma_number, earlier.sent_at = "sent", number, utcnow()
        db.session.commit()
        log.info("run %s: %s %s was already at Visma.net (%s); not sent again", self.run.id, kind, ref, number)
        return earlier

    def _post(self, path, kind, ref, keys, row_ids, body):
        document = self._keep(kind, path, ref, keys, row_ids, body, "sending")   # committed before the POST
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self.client.post(path, body, retry_uncertain=False)
            except VismaNetUncertain as exc:
                # The body may have arrived: look before sending again.
                log.warning("run %s: %s %s uncertain (%s); looking it up", self.run.id, kind, ref, exc)
                number = self._guarded(self._look_up, kind, ref, body)
                if number is not None:
                    return self._sent(document, number, None)
                if attempt >= self.client.max_attempts:
                    raise TransientError(f"Visma.net did not answer {path} after {attempt} attempts") from None
                self.client.sleep(self.client._backoff(attempt))
                continue
            except VismaNetApiError as exc:
                document.state, document.message = "rejected", exc.exception_message
                db.session.commit()
                return document
            except ReauthorisationRequired as exc:
                raise _reauthorise(self.account, exc) from None
            except VismaNetUnavailable as exc:
                raise TransientError(str(exc)) from None
            return self._sent(document, _number(kind, answer), answer.location)

    def _guarded(self, function, *args):
        try:
            return function(*args)
        except ReauthorisationRequired as exc:
            raise _reauthorise(self.account, exc) from None
        except VismaNetUnavailable as exc:
            raise TransientError(str(exc)) from None

    def _sent(self, document, number, location):
        document.state, document.visma_number, document.location = "sent", number, location
        document.sent_at = utcnow()
        db.session.commit()
        return document

    def _look_up(self, kind, ref, body):
        """Visma.net's number of the document with our reference, or None when it has none."""
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
            for item in client.get_json("/v1/inventory", {"inventoryNumber": ref}) or []:
                if item.get("inventoryNumber") == ref:
                    return ref
        elif kind == "KitSpecifications":
            found = client.get_json("/v1/KitSpecifications", {"kitInventoryID": ref}) or {}
            for item in found.get("records") or []:
                return f"{item.get('kitInventoryID')}/{item.get('revision')}"
        return None

    def _stop(self, row, message):
        """Stop on error: the profile's sync stops at this record until someone resumes it."""
        self.stopped = True
        db.session.add(SyncStop(profile_id=self.profile.id, run_id=self.run.id, row_id=row.row_id,
                                record_key=row.record_key, message=message or ""))
        db.session.add(ReportItem(run_id=self.run.id, row_id=row.row_id, record_key=row.record_key,
                                  severity="error", code="sync_stopped", params={"record": row.record_key},
                                  provider_message=message))
        db.session.commit()


def _local_date(value):
    """A stored UTC time as the organisation's local date (the day the payment was made there)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc).astimezone(org_timezone()).date()


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
                          "%(account)s; the run stopped. Authorise the account again on its page, then export "
                          "again. (%(reason)s)"), code="account_reauthorise", account=account.name,
                       reason=exc.reason or str(exc))


# -- validation against the OpenAPI description ----------------------------------------------------------

def validate(path, body):
    """Problems of ``body`` as a POST to ``path`` against Visma.net's OpenAPI description (empty: fine).

    Uses the real description (``shared/contracts``); where it is not installed, nothing can be checked
    here and Visma.net itself checks on sending."""
    try:
        spec.validators()
    except (FileNotFoundError, ImportError) as exc:
        log.info("Visma.net's OpenAPI description is not available (%s); payloads are not checked here", exc)
        return []
    return spec.validate("POST", path, [], json.dumps(body).encode("utf-8"), "application/json")


# -- services for the pages ---------------------------------------------------------------------------

def _profile_id(profile):
    return profile if isinstance(profile, int) else profile.id


def stop_state(profile):
    """The profile's active stop (``SyncStop``: record, Visma.net's message, when), or None."""
    return db.session.execute(
        select(SyncStop).where(SyncStop.profile_id == _profile_id(profile), SyncStop.resumed_at.is_(None))
        .order_by(SyncStop.id.desc()).limit(1)).scalar()


def stopped_profiles():
    """Every profile whose sync is stopped, with its stop (for the dashboard's system messages)."""
    return db.session.execute(
        select(ExportProfile, SyncStop).join(SyncStop, SyncStop.profile_id == ExportProfile.id)
        .where(SyncStop.resumed_at.is_(None)).order_by(SyncStop.stopped_at.desc())).all()


def lift_stop(profile, *, user=None):
    """Lift the stop of a profile's sync (the first half of ``services.resume_sync``). Returns the run
    it stopped, or None."""
    stop = stop_state(profile)
    if stop is None:
        raise ExportError(_l("The sync of this export profile has not stopped."), code="not_stopped")
    stop.resumed_at = utcnow()
    stop.resumed_by_id = user if isinstance(user, int) or user is None else user.id
    db.session.commit()
    return db.session.get(Run, stop.run_id) if stop.run_id else None


def documents(run_id, *, offset=0, limit=100):
    """The documents a run sent (or, in a test run, would send): payload, state, Visma.net's number and
    message — for the run's page."""
    return db.session.execute(select(VismaDocument).where(VismaDocument.run_id == run_id)
                              .order_by(VismaDocument.id).offset(offset).limit(limit)).scalars().all()


__all__ = ["VismaNetProvider", "stop_state", "stopped_profiles", "resume", "documents", "validate"]
