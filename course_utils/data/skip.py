"""``%%needs <data set>``: notebook cells that can be skipped when a data set with no stand-in is missing.

Faces of real people (LFW, Olivetti) have no honest generated stand-in, so without the
data set their loader raises :class:`~course_utils.data.DataUnavailableError`, which
Jupyter shows as one message. By default the notebook stops there. With
``COURSE_SKIP_MISSING=1`` (in a notebook: ``%env COURSE_SKIP_MISSING=1``) every cell
marked ``%%needs <name>`` prints one line and is skipped instead, so the parts of the
notebook that do not need the data set still run::

    %load_ext course_utils.data.skip

    %%needs olivetti
    faces = data.load_olivetti()

The first marked cell runs; if it raises :class:`DataUnavailableError` and the flag is
set, the set is remembered as missing and later ``%%needs`` cells for it are skipped
without running. A cell's last expression is shown as usual.
"""
from __future__ import annotations

import ast
import os

from .fetch import DataUnavailableError

#: The environment variable that turns a missing data set's cells into skipped ones.
SKIP_VARIABLE = "COURSE_SKIP_MISSING"
_MISSING: set = set()


def skipping() -> bool:
    """True when ``$COURSE_SKIP_MISSING`` is ``1``/``true``/``yes``/``on``."""
    return os.environ.get(SKIP_VARIABLE, "").strip().lower() in {"1", "true", "yes", "on"}


def run_cell(code: str, namespace: dict):
    """Execute a cell's (already IPython-transformed) code in ``namespace``; return its last expression's value.

    Parameters
    ----------
    code : str
        Python source.
    namespace : dict
        Globals to run it in (the notebook's ``user_ns``).

    Returns
    -------
    object or None
        The value of the last statement when it is an expression not followed by ``;`` (as Jupyter
        displays it), else None.
    """
    tree = ast.parse(code)
    shown = tree.body and isinstance(tree.body[-1], ast.Expr) and not code.rstrip().endswith(";")
    last = tree.body.pop() if shown else None
    exec(compile(tree, "<cell>", "exec"), namespace)
    if last is not None:
        return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
    return None


def needs(line: str, cell: str, shell=None):
    """The ``%%needs <name>`` cell magic: run the cell, or skip it when data set ``name`` is missing.

    Parameters
    ----------
    line : str
        The data set's registry name, e.g. ``"lfw"``.
    cell : str
        The cell's code.
    shell : IPython.core.interactiveshell.InteractiveShell, optional
        Default: the running one.

    Returns
    -------
    object or None
        What the cell's last expression returns (Jupyter displays it), or None when skipped.

    Raises
    ------
    ValueError
        If ``line`` names no data set.
    DataUnavailableError
        From the cell, when the data set is missing and ``COURSE_SKIP_MISSING`` is not set
        (the message says how to set it).
    """
    from .registry import DATA_HUB

    name = line.strip()
    if name not in DATA_HUB:
        raise ValueError(f"%%needs: {name!r} is not a registered data set (one of {sorted(DATA_HUB)})")
    if name in _MISSING:
        print(f"skipped: this cell needs the '{name}' data set ({SKIP_VARIABLE}=1)")
        return None
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    try:
        return run_cell(shell.transform_cell(cell), shell.user_ns)
    except DataUnavailableError as err:
        if not skipping():
            raise DataUnavailableError(
                f"{err}\nTo run the rest of the notebook without it, set {SKIP_VARIABLE}=1 "
                f"(%env {SKIP_VARIABLE}=1): the cells marked %%needs {name} are then skipped.") from err
        _MISSING.add(name)
        print(f"skipped: the '{name}' data set is not available ({SKIP_VARIABLE}=1); "
              f"the cells marked %%needs {name} are skipped")
        return None


def load_ipython_extension(shell) -> None:
    """Register ``%%needs`` (``%load_ext course_utils.data.skip``)."""
    shell.register_magic_function(lambda line, cell: needs(line, cell, shell), "cell", "needs")
