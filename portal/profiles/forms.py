"""The profile form: name, export type, provider and its options, sync type, company, default window."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired

from ..exporting import windows
from ..exporting.formats.base import FormatOptions, to_bool
from ..exporting.messages import SYNC_TYPE_LABELS
from ..forms import MaxLength, PortalForm
from ..validation import parse_id

FORMATS = [("csv", "CSV"), ("jsonl", "JSON Lines"), ("xlsx", "Excel (XLSX)"), ("sie4", "SIE 4")]
DELIMITERS = [(",", _l("Comma (,)")), (";", _l("Semicolon (;)")), ("\t", _l("Tab")), ("|", _l("Vertical bar (|)"))]
QUOTECHARS = [('"', _l('Double quote (")')), ("'", _l("Single quote (')"))]
ENCODINGS = [("utf-8", "UTF-8"), ("utf-8-sig", _l("UTF-8 with BOM (for spreadsheet programs)"))]
# Named values: a browser sends a raw "\n" in an option's value back as "\r\n" (form data normalises
# line breaks), so Unix line endings could not be chosen. The engine reads the names (formats/base.py).
LINE_ENDINGS = [("crlf", _l("Windows (CR LF)")), ("lf", _l("Unix (LF)"))]
_LINE_ENDING_NAMES = {"\r\n": "crlf", "\n": "lf"}


# What each file format reads of the file options (the form shows only these).
FORMAT_FIELDS = {
    "csv": ("delimiter", "quotechar", "encoding", "line_terminator", "skip_headers", "translated_headers"),
    "xlsx": ("skip_headers", "translated_headers"),
    "jsonl": (),
    "sie4": (),
}
COLUMN_FORMATS = ("csv", "xlsx", "jsonl")  # SIE 4 has a fixed layout: no column choice
VISMA_CODE_MAX = 30       # an item class or sales account for Visma.net


class ProfileForm(PortalForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the export profile a name.")), MaxLength(120)])
    export_type = SelectField(_l("Export type"))
    provider = SelectField(_l("Provider"))
    sync_type = SelectField(_l("Sync type"), choices=list(SYNC_TYPE_LABELS.items()))
    company_id = SelectField(_l("Company"), coerce=str)
    default_window = SelectField(_l("Default time window"), choices=windows.profile_choices())
    format = SelectField(_l("File format"), choices=FORMATS)
    delimiter = SelectField(_l("Delimiter"), choices=DELIMITERS)
    quotechar = SelectField(_l("Quote character"), choices=QUOTECHARS)
    encoding = SelectField(_l("Encoding"), choices=ENCODINGS)
    line_terminator = SelectField(_l("Line endings"), choices=LINE_ENDINGS)
    skip_headers = BooleanField(_l("Skip headers"), default=FormatOptions.skip_headers)
    translated_headers = BooleanField(_l("Translated headers (in the language of the person who starts the export)"),
                                      default=FormatOptions.translated_headers)

    # Visma.net: the integration account that sends, the item classes (products), the sales account (invoices).
    # Not checked against the choices here: the engine refuses an unknown account, next to this field.
    account_id = SelectField(_l("Integration account"), coerce=str, validate_choice=False)
    # Visma.net's item class ids and account numbers are a few characters: a longer text is refused here.
    item_class_stock = StringField(_l("Item class for stock items"), validators=[MaxLength(VISMA_CODE_MAX)])
    item_class_non_stock = StringField(_l("Item class for non-stock items"), validators=[MaxLength(VISMA_CODE_MAX)])
    sales_account = StringField(_l("Sales account (optional)"), validators=[MaxLength(VISMA_CODE_MAX)])

    VISMA_FIELDS = ("account_id", "item_class_stock", "item_class_non_stock", "sales_account")
    OPTION_FIELDS = ("format", "delimiter", "quotechar", "encoding", "line_terminator", "skip_headers",
                     "translated_headers")

    def fill_choices(self, types, providers, companies, label, accounts=()):
        self.account_id.choices = [("", _l("Choose…"))] + [(str(a.id), a.name) for a in accounts]
        self.export_type.choices = [(t.key, label(t)) for t in types]
        self.provider.choices = [(key, label(cls)) for key, cls in providers.items()]
        self.company_id.choices = [("", _l("All companies"))] + [(str(c.id), c.name) for c in companies]

    def load(self, profile):
        """Fill from a saved profile (first GET of the edit page). An option the profile does not store
        shows what its files use: the writer's default (``FormatOptions``) — translated headers, not
        the checkbox's unticked."""
        for name in ("name", "export_type", "provider", "sync_type", "default_window"):
            getattr(self, name).data = getattr(profile, name)
        self.company_id.data = str(profile.company_id or "")
        options = profile.options or {}
        for name in self.OPTION_FIELDS + self.VISMA_FIELDS:
            if name in options:
                getattr(self, name).data = str(options[name]) if name == "account_id" else options[name]
            elif name in FormatOptions.__dataclass_fields__:
                getattr(self, name).data = FormatOptions.__dataclass_fields__[name].default
        for name in ("skip_headers", "translated_headers"):     # stored as text by an API or an import
            if name in options:
                try:
                    flag = to_bool(options[name])
                except ValueError:
                    flag = None
                getattr(self, name).data = (FormatOptions.__dataclass_fields__[name].default
                                            if flag is None else flag)
        # Saved before the names (and the writer's default): the characters themselves.
        self.line_terminator.data = _LINE_ENDING_NAMES.get(self.line_terminator.data, self.line_terminator.data)

    def used_fields(self):
        """The option fields the chosen provider (and file format) reads: the page shows only these,
        so only these are required and checked — the others are absent from the POST."""
        if self.provider.data == "file":
            return {"format", *FORMAT_FIELDS.get(self.format.data or "csv", ())}
        if self.provider.data == "visma_net":
            return set(self.VISMA_FIELDS)
        return set()

    def validate(self, extra_validators=None):
        used = self.used_fields()
        for name in self.OPTION_FIELDS + self.VISMA_FIELDS:
            field = self[name]
            if name not in used and isinstance(field, SelectField):
                field.validate_choice = False  # this instance only: a hidden field has no choice to check
        return super().validate(extra_validators)

    def format_fields(self):
        return FORMAT_FIELDS.get(self.format.data or "csv", ())

    def values(self, columns, saved=None):
        """The profile's fields as the services take them. ``saved``: the profile being edited — the
        options this form does not show (an Excel sheet's title, SIE 4's series and voucher numbering…)
        are kept as they are, as long as the provider stays the same."""
        options = {}
        if self.provider.data == "file":
            fmt = self.format.data or "csv"
            options = {"format": fmt, **{name: getattr(self, name).data for name in FORMAT_FIELDS.get(fmt, ())}}
            if columns is not None and fmt in COLUMN_FORMATS:
                options["columns"] = columns
        elif self.provider.data == "visma_net":
            wanted = {"products": ("item_class_stock", "item_class_non_stock"),
                      "invoices": ("sales_account",)}.get(self.export_type.data, ())
            options = {name: (getattr(self, name).data or "").strip() for name in self.VISMA_FIELDS
                       if name == "account_id" or name in wanted}
            options = {name: value for name, value in options.items() if value}
            account_id = parse_id(options.get("account_id"))
            if account_id is not None:
                options["account_id"] = account_id
            else:
                options.pop("account_id", None)
        if saved is not None and saved.provider == self.provider.data:
            shown = set(self.OPTION_FIELDS + self.VISMA_FIELDS) | {"columns"}
            options = {**{name: value for name, value in (saved.options or {}).items() if name not in shown},
                       **options}
        return {"name": self.name.data, "export_type": self.export_type.data, "provider": self.provider.data,
                "sync_type": self.sync_type.data, "default_window": self.default_window.data,
                "company_id": parse_id(self.company_id.data), "options": options}
