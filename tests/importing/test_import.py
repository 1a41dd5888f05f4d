"""``flask import TABLE FILE``: every bad row reported (file, line, column, reason), nothing loaded of
a bad file, and a good import of every table — on SQLite and PostgreSQL."""
import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal import importing
from portal.extensions import db
from portal.importing import TABLES, _file_error, columns_doc
from portal.models import (
    Company, Debtor, Employee, InvoiceLine, JournalLine, KitComponent, Payment, Product, PurchaseOrder,
    PurchaseOrderLine, TimeRegistration,
)

GOOD_FILES = [
    ("companies", "code,name,is_test_company\nACME,Acme Care B.V.,false\nOEF,Oefen B.V.,true\n"),
    ("departments", "company,code,name,finance_system\nACME,SHOP,Shop,visma_net\nACME,ADM,Administration,\n"),
    ("cost_centres", "company,code,name\nACME,100,Management\nACME,110,Home care\n"),
    ("cost_units", "company,code,name\nACME,P01,Personal care\n"),
    ("debtors", "company,number,name,email,blocked\nACME,10001,Anna de Vries,anna@example.com,false\n"
                "ACME,10002,Bram Jansen,,yes\n"),
    ("employees", "company,number,name,department\nACME,1001,Carla Smit,ADM\nACME,1002,Daan Bos,\n"),
    ("suppliers", "company,number,name\nACME,70001,Medline\n"),
    ("journal_lines",
     "company,payroll_run_ref,run_period,about_period,line_no,account,cost_centre,cost_unit,employee,debit,credit,description\n"
     "ACME,ACME-PAY-2026-03,2026-03,2026-03,1,4000,100,P01,1001,3000.00,0,Gross wages\n"
     "ACME,ACME-PAY-2026-03,2026-03,2026-03,2,1600,,,1001,0,3000.00,Net wages payable\n"
     "ACME,ACME-PAY-2026-03,2026-03-01,2026-01-01,3,4000,110,,1002,125.50,,Correction January\n"
     "ACME,ACME-PAY-2026-03,2026-03,2026-01,4,1600,,,1002,,125.50,Correction January\n"),
    ("invoice_lines",
     "company,debtor,invoice_number,line_no,invoice_date,due_date,product_code,description,quantity,unit_price,amount,vat_code,vat_amount\n"
     "ACME,10001,ACME-2026-000001,1,2026-03-02,2026-04-01,ZV-PC,Personal care,2.5,62.50,156.25,0,0\n"
     "ACME,10002,ACME-2026-000002,1,2026-03-02,2026-04-01,IT000001,Cappuccino,2,2.90,5.80,9,0.52\n"),
    ("time_registrations",
     "company,employee,starts_at,ends_at,activity,cost_centre\n"
     "ACME,1001,2026-03-02T07:00:00+01:00,2026-03-02T15:00:00+01:00,Personal care,110\n"
     "ACME,1001,2026-03-02T14:30:00,2026-03-02T18:00:00,Nursing,\n"),
    ("payments",
     "company,department,receipt_number,customer_number,customer_name,payment_type,amount,paid_at\n"
     "ACME,SHOP,R1,10001,Anna de Vries,CARD,12.50,2026-03-02T10:15:00Z\n"
     "ACME,,R2,10002,Bram Jansen,CASH,-3.00,2026-03-02T11:00:00\n"),
    ("purchase_orders", "company,order_number,supplier,department,order_date,description\n"
                        "ACME,PO1,70001,SHOP,2026-03-01,Gloves\n"),
    ("purchase_order_lines", "order_number,line_no,item_code,description,quantity,unit_cost\n"
                             "PO1,1,RM000001,Nitrile gloves,10,6.90\nPO1,2,RM000002,Gauze,5,0.85\n"),
    ("products",
     "company,item_code,description,is_raw_material,has_calculation,unit,sales_price,cost_price,updated_at\n"
     "ACME,RM000001,Coffee beans,true,false,KG,0,14.00,2026-03-01T08:00:00\n"
     "ACME,RM000002,Milk,true,false,L,0,0.95,2026-03-01T08:00:00\n"
     "ACME,IT000001,Cappuccino,false,true,PCS,2.90,1.30,2026-03-01T08:00:00\n"
     "ACME,IT000002,Walking stick,false,false,PCS,24.95,11.00,2026-03-01T08:00:00\n"),
    ("kit_components", "company,item_code,component,quantity\nACME,IT000001,RM000001,0.02\nACME,IT000001,RM000002,0.15\n"),
]


def write(tmp_path, name, content, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return str(path)


def run_import(app, *args):
    return app.test_cli_runner().invoke(args=["import", *args])


def problems_of(result):
    """The problem rows printed on stderr (after the header), as lists."""
    rows = list(csv.reader(io.StringIO(result.stderr)))
    assert rows[0] == ["file", "line", "column", "reason"], result.stderr
    return [row for row in rows[1:] if len(row) == 4]


def count(model):
    return db.session.execute(select(func.count()).select_from(model.__table__)).scalar()


def load_good(app, tmp_path, upto=None):
    for table, content in GOOD_FILES:
        if table == upto:
            return
        path = write(tmp_path, f"{table}.csv", content)
        result = run_import(app, table, path)
        assert result.exit_code == 0, (table, result.output, result.stderr)
        rows = content.count("\n") - 1
        assert result.output == f"{path}: {rows} {'row' if rows == 1 else 'rows'} loaded into {table}.\n"


def test_a_good_import_of_every_table(any_app, tmp_path):
    assert [t for t, _c in GOOD_FILES] == list(TABLES)
    with any_app.app_context():
        load_good(any_app, tmp_path)
        acme = db.session.execute(select(Company).filter_by(code="ACME")).scalar_one()
        assert db.session.execute(select(Company.is_test_company).filter_by(code="OEF")).scalar() is True
        assert db.session.execute(select(Debtor.blocked).filter_by(number="10002")).scalar() is True
        lines = db.session.execute(select(JournalLine).order_by(JournalLine.line_no)).scalars().all()
        assert [(l.run_period, l.about_period) for l in lines][2] == (date(2026, 3, 1), date(2026, 1, 1))
        assert lines[2].debit == Decimal("125.50") and lines[2].credit == Decimal("0")
        assert lines[0].company_id == acme.id and lines[0].employee_id is not None
        assert lines[1].cost_centre_id is None
        first, second = db.session.execute(select(TimeRegistration).order_by(TimeRegistration.starts_at)).scalars()
        assert first.starts_at == datetime(2026, 3, 2, 6, 0)  # +01:00 converted to UTC
        assert second.starts_at == datetime(2026, 3, 2, 14, 30)  # no offset: UTC already
        assert db.session.execute(select(Payment.paid_at).filter_by(receipt_number="R1")).scalar() \
            == datetime(2026, 3, 2, 10, 15)
        assert count(InvoiceLine) == 2 and count(PurchaseOrder) == 1 and count(PurchaseOrderLine) == 2
        assert count(KitComponent) == 2 and count(Product) == 4 and count(Employee) == 2


def test_every_bad_row_is_reported_and_nothing_is_loaded(any_app, tmp_path):
    with any_app.app_context():
        load_good(any_app, tmp_path, upto="journal_lines")
        path = write(tmp_path, "journal.csv",
                     "company,payroll_run_ref,run_period,about_period,line_no,account,cost_centre,cost_unit,employee,debit,credit,description\n"
                     "ACME,R1,2026-03,2026-03,1,4000,100,P01,1001,100.00,0,good row\n"                # 2: good
                     "NOPE,R1,2026-03,2026-03,2,4000,100,,,100,0,unknown company\n"                   # 3
                     "ACME,R1,2026-13,2026-03,3,4000,999,P01,4242,1.234,-5,three problems\n"          # 4
                     "ACME,R1,2026-03,2026-04,4,,,,,,,\n"                                              # 5
                     "ACME,R1,2026-03,2026-03,1,4000,,,,,,repeats line 2\n"                            # 6
                     "ACME,R1,2026-03\n"                                                               # 7
                     "\n"                                                                              # 8 blank: ignored
                     'ACME,R1,2026-03,2026-03,7,4000,,,,12,0,"a description\nover two lines"\n'       # 9-10: good
                     "ACME,R1,2026-03,2026-03,8,4000,,,,twelve,0,x\n")                                # 11
        result = run_import(any_app, "journal_lines", path)
        assert result.exit_code == 1
        assert problems_of(result) == [
            [path, "3", "company", "no company with this code"],
            [path, "4", "run_period", "is not a period in the form YYYY-MM"],
            [path, "4", "debit", "has more than 2 decimals"],
            [path, "4", "credit", "must not be negative"],
            [path, "4", "cost_centre", "no cost centre with this code in the company"],
            [path, "4", "employee", "no employee with this number in the company"],
            [path, "5", "account", "a value is required"],
            [path, "5", "about_period", "must not be after the run period"],
            [path, "6", "line_no", "repeats line 2"],
            [path, "7", "", "has 3 fields where the header has 12"],
            [path, "11", "debit", "is not a number (use a point for decimals, e.g. 1234.56)"],
        ]
        assert f"{path}: 11 problems; nothing was loaded." in result.stderr
        assert count(JournalLine) == 0  # not even the good rows


def test_rows_that_exist_already_are_refused_across_chunks(any_app, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    with any_app.app_context():
        load_good(any_app, tmp_path, upto="employees")
        path = write(tmp_path, "debtors.csv", "company,number,name\nACME,10001,In the database already\n"
                     "ACME,20001,New\nACME,20002,New too\nACME,20001,Again in a later chunk\n")
        result = run_import(any_app, "debtors", path)
        assert result.exit_code == 1
        reason = "already exists (in the database or earlier in this file)"
        assert problems_of(result) == [[path, "2", "number", reason], [path, "5", "number", reason]]
        assert count(Debtor) == 2


def test_header_problems_are_reported(app, tmp_path):
    with app.app_context():
        path = write(tmp_path, "debtors.csv", "company,numbr,name,name\nACME,1,x,x\n")
        result = run_import(app, "debtors", path)
        assert result.exit_code == 1
        assert problems_of(result) == [
            [path, "1", "numbr", "unknown column"],
            [path, "1", "name", "this column appears twice"],
            [path, "1", "number", "this required column is missing"],
        ]


def test_references_are_checked_by_business_key_and_kind(app, tmp_path):
    with app.app_context():
        load_good(app, tmp_path, upto="kit_components")
        path = write(tmp_path, "kits.csv", "company,item_code,component,quantity\n"
                     "ACME,IT000002,RM000001,1\nACME,IT000001,IT000002,1\nACME,IT000001,RM000009,1\n"
                     "ACME,IT000001,RM000001,1\nACME,IT000001,RM000001,2\n")
        result = run_import(app, "kit_components", path)
        assert problems_of(result) == [
            [path, "2", "item_code", "this item has no calculation"],
            [path, "3", "component", "this product is not a raw material"],
            [path, "4", "component", "no product with this item code in the company"],
            [path, "6", "component", "repeats line 5"],
        ]
        assert count(KitComponent) == 0


def test_other_row_rules(app, tmp_path):
    with app.app_context():
        load_good(app, tmp_path, upto="journal_lines")
        times = write(tmp_path, "times.csv", "company,employee,starts_at,ends_at,activity\n"
                      "ACME,1001,2026-03-02T10:00:00,2026-03-02T09:00:00,Nursing\n"
                      "ACME,1001,02-03-2026 10:00,2026-03-02T11:00:00,Nursing\n")
        assert problems_of(run_import(app, "time_registrations", times)) == [
            [times, "2", "ends_at", "must be after the start"],
            [times, "3", "starts_at", "is not a date and time in the form YYYY-MM-DDTHH:MM:SS"],
        ]
        departments = write(tmp_path, "deps.csv", "company,code,name,finance_system\nACME,X,X,exact\n")
        assert problems_of(run_import(app, "departments", departments)) == [
            [departments, "2", "finance_system", "must be one of: visma_net"]]
        invoices = write(tmp_path, "inv.csv", GOOD_FILES[8][1].replace("2026-04-01", "2026-02-01", 1)
                         .replace("10002", "99999"))
        assert problems_of(run_import(app, "invoice_lines", invoices)) == [
            [invoices, "2", "due_date", "must not be before the invoice date"],
            [invoices, "3", "debtor", "no debtor with this number in the company"],
        ]


def test_file_problems(app, tmp_path):
    with app.app_context():
        latin = write(tmp_path, "latin.csv", "code,name\nSØ,Søren A/S\n", encoding="latin-1")
        empty = write(tmp_path, "empty.csv", "")
        result = run_import(app, "companies", latin, empty, str(tmp_path / "missing.csv"))
        assert result.exit_code == 1
        problems = problems_of(result)
        assert [p[0] for p in problems] == [latin, empty, str(tmp_path / "missing.csv")]
        assert problems[0][3] == "the file is not UTF-8 text"
        assert problems[1][1:] == ["1", "", "the file is empty; the first line must name the columns"]
        assert problems[2][3] == "the file does not exist"
        assert count(Company) == 0


@pytest.mark.parametrize("locale, missing, folder, unreadable", [
    ("en", "the file does not exist", "this is a folder, not a file", "there is no permission to read the file"),
    ("nl", "het bestand bestaat niet", "dit is een map, geen bestand",
     "er is geen toestemming om het bestand te lezen"),
    ("sv", "filen finns inte", "detta är en mapp, inte en fil", "det saknas behörighet att läsa filen"),
    ("da", "filen findes ikke", "dette er en mappe, ikke en fil", "der er ikke tilladelse til at læse filen"),
])
def test_a_file_that_cannot_be_opened_is_reported_in_the_chosen_language(app, tmp_path, locale, missing, folder,
                                                                         unreadable):
    """Not the operating system's English ("No such file or directory") inside a Dutch report."""
    import os
    with app.app_context():
        locked = write(tmp_path, "locked.csv", "code,name\nX,Y\n")
        os.chmod(locked, 0)
        can_lock = not os.access(locked, os.R_OK)       # root reads whatever the mode: then not this one
        result = run_import(app, "--locale", locale, "companies", str(tmp_path / "missing.csv"), str(tmp_path),
                            *([locked] if can_lock else []))
        os.chmod(locked, 0o600)
        assert result.exit_code == 1
        reasons = [problem[3] for problem in problems_of(result)]
        assert reasons == [missing, folder] + ([unreadable] if can_lock else [])
        assert "No such file" not in result.stderr and "directory" not in result.stderr
        assert count(Company) == 0
        with force_locale(locale):
            assert str(_file_error(PermissionError(13, "Permission denied"))) == unreadable
            assert str(_file_error(OSError(5, "Input/output error"))).endswith(": EIO")


def test_a_semicolon_file_with_a_byte_order_mark(app, tmp_path):
    with app.app_context():
        path = write(tmp_path, "companies.csv", "\ufeffcode;name\nNORD;Nord A/S\n")
        result = run_import(app, "--delimiter", ";", "companies", path)
        assert result.exit_code == 0, result.stderr
        assert count(Company) == 1


@pytest.mark.parametrize("locale, reason, summary", [
    ("nl", "er is een waarde nodig", "er is niets geladen"),
    ("sv", "ett värde krävs", "inget lästes in"),
    ("da", "en værdi er påkrævet", "intet blev indlæst"),
])
def test_the_report_speaks_the_chosen_language(app, tmp_path, locale, reason, summary):
    with app.app_context():
        path = write(tmp_path, "companies.csv", "code,name\nX,\n")
        result = run_import(app, "--locale", locale, "companies", path)
        assert problems_of(result) == [[path, "2", "name", reason]]
        assert summary in result.stderr


def test_unknown_table_and_column_documentation(app):
    result = run_import(app, "nonsense", "x.csv")
    assert result.exit_code == 2 and "choose one of: companies, departments" in result.output
    result = run_import(app, "--columns", "journal_lines")
    assert result.exit_code == 0
    assert "about_period" in result.output and "period, YYYY-MM" in result.output


def test_the_readme_documents_every_table_as_the_code_does():
    from portal.config import ROOT
    readme = (ROOT / "README.md").read_text()
    for table in TABLES:
        assert columns_doc(table) in readme, table
