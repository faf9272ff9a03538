"""Test-run settings shared by the unit tests and the notebooks (nbval).

``make test`` runs in two pytest-xdist workers with ``--dist loadfile``: every file
is one unit of work, so a notebook's cells run in order, in one kernel, on one
worker. Notebook 05 loads the photo-domain classifier that notebook 01 saves, so
the scheduler below makes the two notebooks one unit: 05 runs after 01 on the same
worker, as it would in ``make course``.
"""
from __future__ import annotations

import re

#: Notebooks that must run on the same worker, in this order (a later one reads what an earlier one saved).
CHAINED_NOTEBOOKS = ("01_processing", "05_synthesis")


def work_unit(nodeid: str) -> str:
    """The unit of work of a test id: its file, or one shared unit for :data:`CHAINED_NOTEBOOKS`.

    Parameters
    ----------
    nodeid : str
        E.g. ``"notebooks/05_synthesis.ipynb::Cell 3"`` or ``"tests/test_audio.py::test_x"``
        (pytest 9 under xdist may report a notebook as ``notebooks/05_synthesis::ipynb::Cell 3``).

    Returns
    -------
    str
    """
    file = nodeid.split("::", 1)[0]
    match = re.search(r"notebooks/(\d\d_\w+)", nodeid)
    if match and match.group(1) in CHAINED_NOTEBOOKS:
        return "notebooks/" + "+".join(CHAINED_NOTEBOOKS)
    return file


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, with :data:`CHAINED_NOTEBOOKS` as one unit of work (see :func:`work_unit`)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ChainedNotebookScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ChainedNotebookScheduling(config, log)
