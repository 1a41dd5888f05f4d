"""The file provider: CSV, JSON Lines, XLSX, and SIE 4 for journals, via the formats package.

Writers stream and write to a temporary name that appears only on ``close()``. A writer that holds one
company per file (SIE 4: ``one_file_per = "company_code"``) gets one file per company; the engine
delivers rows grouped by company and period, so each company's rows come together.
"""
from flask import current_app
from flask_babel import lazy_gettext as _l

from .. import sqlcsv
from ..errors import ExportError
from ..formats import FormatError, FormatOptions, get_writer
from ..storage import file_name, run_directory
from . import register
from .base import DeliveredFile, Provider

FORMATS = ("csv", "jsonl", "xlsx", "sie4")


@register
class FileProvider(Provider):
    key = "file"
    label = _l("File")
    supports_removals = True
    per_row_results = False
    typed_values = False
    batch_size = 2000

    @classmethod
    def check_options(cls, export_type, options):
        fmt = (options or {}).get("format", "csv")
        if fmt not in FORMATS:
            raise ExportError(_l("Unknown file format: %(format)s."), code="unknown_format", format=fmt)
        if fmt not in export_type.formats:
            raise ExportError(_l("The file format %(format)s is not available for %(type)s."),
                              code="format_not_available", format=fmt, type=export_type.label)
        try:
            FormatOptions.from_mapping(options)
        except FormatError as error:
            raise ExportError(error.message, code=error.code) from None

    def begin(self):
        self.format = self.options.get("format", "csv")
        self.writer_class = get_writer(self.format)
        self.split_key = getattr(self.writer_class, "one_file_per", None)
        self.writer_options = dict(self.options)
        # Date-times in a spreadsheet carry no zone: the XLSX writer shows the organisation's clock time.
        self.writer_options["timezone"] = current_app.config["PORTAL_TIMEZONE"]
        if self.run.params.get("skip_headers") is not None:
            self.writer_options["skip_headers"] = bool(self.run.params["skip_headers"])
        self.directory = run_directory(self.storage_root, self.run.id)
        self.writer, self.current_part, self.count, self.files = None, None, 0, []

    def _open(self, part):
        label = self.profile.name if part is None else f"{self.profile.name} {part}"
        name = file_name(label, self.run.mode, self.run.window_start, self.run.window_end, self.version,
                         self.writer_class.extension)
        self.writer = self.writer_class(self.directory / name, self.columns, self.writer_options)
        self.current_part, self.count = part, 0

    def _close(self):
        info = self.writer.close()
        self.files.append(DeliveredFile(name=info.name, path=info.path, format=self.format, size=info.size,
                                        sha256=info.sha256, rows=info.rows))
        self.writer = None

    def write_from_database(self, deliverable, cancel, reverse=False, progress=None):
        """CSV or JSON Lines in one file: let the database write the rows (``sqlcsv``) when it can do so
        exactly as the row-by-row writer would. Returns True when it wrote them all, False to deliver row
        by row (nothing written then: a file the database began is dropped)."""
        if self.split_key is not None or self.writer is not None:
            return False
        if not current_app.config.get("EXPORT_FILES_BY_DATABASE", True):
            return False
        options = FormatOptions.from_mapping(self.writer_options)
        if not sqlcsv.possible(self.format, options, self.columns, deliverable, cancel, reverse,
                               counts=self.run.counts):
            return False
        self._open(None)
        try:
            sqlcsv.write(self.format, self.writer, deliverable, self.columns, progress)
        except sqlcsv.OddRow:
            self.writer.abort()
            self.writer = None
            return False
        return True

    def open_while_preparing(self):
        """Before prepare inserts the rows (``engine._file_while_preparing``): (format, options) when the
        database may write this file while inserting them — one file (CSV or JSON Lines), files by the
        database not switched off — else None. The caller opens the file (``_open``) once it can."""
        self.begin()
        # (A provider that decides otherwise when the database writes its files is left to decide so.)
        if (self.split_key is not None or self.format not in sqlcsv.FORMATS
                or type(self).write_from_database is not FileProvider.write_from_database):
            return None
        return self.format, FormatOptions.from_mapping(self.writer_options)

    def deliver(self, batch):
        if self.split_key is None:
            if self.writer is None:
                self._open(None)
            self.writer.write_rows([dict(row.payload, mutation=row.mutation) for row in batch])
            return None
        chunk = []
        for row in batch:
            part = str(row.payload.get(self.split_key))
            if self.writer is None or part != self.current_part:
                if chunk:
                    self.writer.write_rows(chunk)
                    chunk = []
                if self.writer is not None:
                    self._close()
                self._open(part)
            chunk.append(dict(row.payload, mutation=row.mutation))
        if chunk:
            self.writer.write_rows(chunk)
        return None

    def finish(self):
        if self.writer is None and not self.files:
            self._open(None)     # nothing to deliver: still an (empty) file, so the run shows its result
        if self.writer is not None:
            self._close()
        return self.files

    def abort(self):
        writer, self.writer = getattr(self, "writer", None), None
        if writer is not None:
            writer.abort()
