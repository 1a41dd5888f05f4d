"""Source data for the engine's tests, made here (independent of the demo seed)."""
from datetime import date, datetime, timedelta
from decimal import Decimal

from portal.extensions import db
from portal.models import (
    Company, CostCentre, CostUnit, Debtor, Department, Employee, InvoiceLine, JournalLine, KitComponent, Payment,
    Product, PurchaseOrder, PurchaseOrderLine, Supplier, TimeRegistration,
)

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
OCTOBER = date(2026, 10, 1)


def companies():
    zorg = Company(code="ZORG", name="Zorggroep Rivierenland B.V.", is_test_company=False)
    thuis = Company(code="THUIS", name="Thuiszorg Noord B.V.", is_test_company=False)
    test = Company(code="TEST", name="Oefenbedrijf (test)", is_test_company=True)
    db.session.add_all([zorg, thuis, test])
    db.session.flush()
    return zorg, thuis, test


def journal(company, ref, period, lines, about=None):
    """``lines``: (account, debit, credit, description). Lines are numbered from 1."""
    made = []
    for number, (account, debit, credit, text) in enumerate(lines, start=1):
        line = JournalLine(company_id=company.id, payroll_run_ref=ref, run_period=period,
                           about_period=about or period, line_no=number, account=account,
                           debit=Decimal(debit), credit=Decimal(credit), description=text)
        made.append(line)
    db.session.add_all(made)
    db.session.flush()
    return made


def debtors(company, count=3, blocked=()):
    made = [Debtor(company_id=company.id, number=str(10001 + i), name=f"Debtor {i + 1}", blocked=i in blocked)
            for i in range(count)]
    db.session.add_all(made)
    db.session.flush()
    return made


def invoice_lines(company, debtor_list, count, day=date(2026, 11, 10), start=1):
    made = []
    for i in range(count):
        debtor = debtor_list[i % len(debtor_list)]
        n = start + i
        made.append(InvoiceLine(company_id=company.id, debtor_id=debtor.id, invoice_number=f"INV{n:06d}", line_no=1,
                                invoice_date=day, due_date=day + timedelta(days=30), product_code=f"P{n % 7}",
                                description=f"Care hours {n}", quantity=Decimal("2"), unit_price=Decimal("45.50"),
                                amount=Decimal("91.00"), vat_code="H", vat_amount=Decimal("19.11")))
    db.session.add_all(made)
    db.session.flush()
    return made


def employee(company, number="E001", name="Anna de Vries"):
    person = Employee(company_id=company.id, number=number, name=name)
    db.session.add(person)
    db.session.flush()
    return person


def hours(company, person, spans, activity="Care"):
    """``spans``: (start, end) naive UTC datetimes."""
    made = [TimeRegistration(company_id=company.id, employee_id=person.id, starts_at=s, ends_at=e,
                             activity=activity) for s, e in spans]
    db.session.add_all(made)
    db.session.flush()
    return made


def payments(company, count, at=datetime(2026, 11, 12, 9, 0)):
    made = [Payment(company_id=company.id, receipt_number=f"R{i:06d}", customer_number=f"C{i % 5}",
                    customer_name=f"Customer {i % 5}", payment_type="CARD", amount=Decimal("12.50") + i,
                    paid_at=at + timedelta(minutes=i)) for i in range(count)]
    db.session.add_all(made)
    db.session.flush()
    return made


def purchase_orders(company, count, day=date(2026, 11, 5)):
    supplier = Supplier(company_id=company.id, number="70001", name="Medisupply")
    db.session.add(supplier)
    db.session.flush()
    made = []
    for i in range(count):
        order = PurchaseOrder(company_id=company.id, supplier_id=supplier.id, order_number=f"PO{i:05d}",
                              order_date=day, description=f"Order {i}")
        db.session.add(order)
        db.session.flush()
        made.append(PurchaseOrderLine(purchase_order_id=order.id, line_no=1, item_code="GLOVES",
                                      description="Gloves", quantity=Decimal("10"), unit_cost=Decimal("3.20")))
    db.session.add_all(made)
    db.session.flush()
    return made


def products(company, count, at=datetime(2026, 11, 3, 8, 0)):
    made = [Product(company_id=company.id, item_code=f"ITEM{i:04d}", description=f"Item {i}",
                    sales_price=Decimal("9.95"), cost_price=Decimal("4.10"), updated_at=at) for i in range(count)]
    db.session.add_all(made)
    db.session.flush()
    if count >= 3:
        made[0].has_calculation = True
        made[1].is_raw_material = True
        db.session.add(KitComponent(product_id=made[0].id, component_id=made[1].id, quantity=Decimal("2")))
    db.session.flush()
    return made


__all__ = ["CostCentre", "CostUnit", "Department"]
