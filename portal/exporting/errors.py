"""Errors the services raise. Each carries a translatable message and its parameters.

Views show ``str(error)`` (rendered in the current locale); the API may use ``error.code``.
"""
from flask_babel import lazy_gettext as _l

from .messages import stored_message


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

    def stored(self):
        """The message and its parameters as JSON, to be shown later in the reader's language."""
        return stored_message(self.message, self.params)


class IllegalTransition(ExportError):
    code = "illegal_transition"

    def __init__(self, current, target):
        super().__init__(_l("An export that is %(current)s cannot become %(target)s."),
                         current=current, target=target)


class TransientError(Exception):
    """A temporary failure (database connection, provider timeout): the job is retried with back-off."""
