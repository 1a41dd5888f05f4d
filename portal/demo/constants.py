"""The demo organisation's fixed reference data, shared by ``demo seed`` and the Visma.net sandbox.

The sandbox's companies know these customers, suppliers, payment types, item classes, accounts and
dimension values, so that the demo works end to end on one machine.
"""

# Our companies: code, name, is test company.
COMPANIES = [
    ("ZORG", "Zorggroep Rivierenland B.V.", False),
    ("THUIS", "Thuiszorg Noord B.V.", False),
    ("TEST", "Oefenbedrijf (test)", True),
]

# Visma.net companies offered by the sandbox's sign-in page: (company id, name).
SANDBOX_COMPANIES = [
    ("1000001", "Zorggroep Rivierenland (Visma.net)"),
    ("1000002", "Thuiszorg Noord (Visma.net)"),
    ("1000003", "Demo company"),
]
SANDBOX_BRANCHES = ["MAIN", "NORTH", "SOUTH"]

# Debtors (customers at Visma.net) are numbered from here; the demo has about 2,000.
DEBTOR_NUMBER_FIRST = 10001
DEBTOR_COUNT = 2000
# Suppliers (vendors at Visma.net).
SUPPLIER_NUMBER_FIRST = 70001
SUPPLIER_COUNT = 40

PAYMENT_TYPES = ["CASH", "CARD", "MOBILEPAY", "GIFTCARD"]
ITEM_CLASS_STOCK = "STOCK"
ITEM_CLASS_NON_STOCK = "NONSTOCK"

# Payroll accounts: (number, description, side of the journal it usually stands on).
PAYROLL_ACCOUNTS = [
    ("4000", "Gross wages", "debit"),
    ("4010", "Holiday allowance", "debit"),
    ("4100", "Employer social security", "debit"),
    ("4110", "Employer pension contribution", "debit"),
    ("1600", "Net wages payable", "credit"),
    ("1610", "Payroll tax payable", "credit"),
    ("1620", "Pension premiums payable", "credit"),
]
SALES_ACCOUNTS = [("8000", "Revenue care services"), ("8100", "Revenue products")]

# Cost centres and cost units: Visma.net's subaccount segments 1 and 2 (the "Dimensions").
COST_CENTRES = [("100", "Management"), ("110", "Home care North"), ("120", "Home care South"),
                ("130", "Nursing home De Linde"), ("140", "Day care"), ("150", "Finance and HR")]
COST_UNITS = [("P01", "Personal care"), ("P02", "Nursing"), ("P03", "Domestic help"),
              ("P04", "Guidance"), ("P05", "Overhead")]
# The descriptions of the segments at Visma.net; the dimension mapping must match them.
DIMENSION_DESCRIPTIONS = {"cost_centre": "Cost centre", "cost_unit": "Cost unit"}

DEMO_PASSWORD = "demo"
DEMO_USERS = [
    ("admin@example.com", "admin", "Ada Admin", "en"),
    ("consultant@example.com", "consultant", "Connie Consultant", None),
    ("manager@example.com", "manager", "Max Manager", None),
    ("staff@example.com", "staff", "Sam Staff", None),
]
