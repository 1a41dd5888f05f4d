"""Errors the services raise. Each carries a translatable message and its parameters.

Views show ``str(error)`` (rendered in the current locale); the API may use ``error.code``.
"""
from flask_babel import lazy_gettext as _l


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
