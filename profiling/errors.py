"""Exceptions raised by the profiling library; pages show their message, never a traceback."""

from __future__ import annotations


def _as_written(text: str) -> str:
    return text


translate = _as_written
"""How the words of an error's prefix ("events.csv, column 'ts'") are translated: set to
:func:`profiling.vocabulary.i18n.gettext` when that module is imported (this ground-floor
module cannot import it)."""


def translated(message: str) -> str:
    """``message`` in the current language, for the ground floor's own errors (its modules
    cannot import the catalogs): ``from profiling.errors import translated as _``, so that the
    catalog extraction finds the words. As written until the catalogs are loaded."""
    return translate(message)


class ProfilingError(Exception):
    """Base class of every error the library raises on purpose."""


class DataValidationError(ProfilingError, ValueError):
    """A file or table cannot be used.

    The message names the file, the column (where one is at fault), what was expected and
    what was found, so that a user can fix the file without reading code.
    """

    def __init__(self, source: str, problem: str, *, column: str | None = None) -> None:
        self.source = source
        self.column = column
        self.problem = problem
        where = (
            translate("{source}, column '{column}'").format(source=source, column=column)
            if column
            else source
        )
        super().__init__(f"{where}: {problem}")


class MappingError(DataValidationError):
    """The column roles of a table are missing, unknown or contradictory."""


class NotFittedError(ProfilingError, ValueError):
    """A model or transformer was used before `fit`."""


class WorkspaceError(ProfilingError):
    """A workspace is missing, read-only, busy, or its files cannot be read; the message
    names the workspace or the file."""


class EvaluationError(ProfilingError, ValueError):
    """An evaluation input (split, metric argument, model set, tuning grid) cannot be used."""


class ModelFitError(ProfilingError, ValueError):
    """A customer-value model (BG/NBD, MBG/NBD, Gamma-Gamma) could not be fitted, or its fit
    is degenerate: too few customers, an optimizer that did not report success, a likelihood
    that is flat or not a finite number, or a parameter pushed to the edge of its sane range.
    The message says in plain words which of these happened (the ``lifetimes`` habit of a
    ``ConvergenceError`` unless the optimizer reports success)."""
