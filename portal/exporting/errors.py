"""Errors the services raise. Each carries a translatable message and its parameters.

Views show ``str(error)`` (rendered in the current locale); the API may use ``error.code``.
"""
from flask_babel import lazy_gettext as _l

from ..i18n import wall_clock_text


class ExportError(Exception):
    """A refusal the user can act on. ``message`` is a lazy translatable string with %(name)s places."""

    code = "export_error"

    def __init__(self, message, code=None, **params):
        self.message = message
        self.params = params
        if code:
            self.code = code
        super().__init__(self.render())

    def render(self):
        text = str(self.message)
        return text % self.params if self.params else text

    def __str__(self):
        return self.render()


class NonexistentTime(ExportError):
    """*Run at* in the hour the clocks skip for daylight saving time. It carries its code and parameters —
    the wall-clock time as entered (ISO text ``YYYY-MM-DDTHH:MM``) and the zone — and is worded where it is
    shown, in the language of that moment (a page: the user's; a worker: the run's, under ``force_locale``),
    not in the language of wherever it was raised."""

    code = "run_at_nonexistent"

    def __init__(self, local, zone):
        super().__init__(_l("%(time)s does not exist in the time zone %(zone)s: the clocks skip that hour for "
                            "daylight saving time. Choose another time."),
                         time=local.strftime("%Y-%m-%dT%H:%M"), zone=str(zone))

    def render(self):
        return str(self.message) % {**self.params, "time": wall_clock_text(self.params["time"])}


class IllegalTransition(ExportError):
    code = "illegal_transition"

    def __init__(self, current, target):
        super().__init__(_l("An export that is %(current)s cannot become %(target)s."),
                         current=current, target=target)


class TransientError(Exception):
    """A temporary failure (database connection, provider timeout): the job is retried with back-off.

    The exception's text is technical (a path, a status, an exception class): it goes to the log only.
    ``problem`` names what happened for the people who read the run (``messages.TEMPORARY_PROBLEMS``,
    e.g. ``visma_timeout``); None: a temporary error the portal has no words for (the log has it)."""

    def __init__(self, technical="", problem=None):
        super().__init__(technical)
        self.problem = problem
