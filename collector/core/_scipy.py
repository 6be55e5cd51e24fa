"""Keep ``scipy.integrate`` out of start-up.

datasketch's LSH modules import ``scipy.integrate.quad`` when they load, for the optimiser
that picks bands and rows from a threshold. collector passes its bands and rows, so the
optimiser never runs, yet the import costs ~0.6 s of every command's start (a third of
the 2 s budget before an import links its first document). While datasketch loads, a
stand-in module offers a ``quad`` that imports the real one on its first call.
"""

from __future__ import annotations

import sys
import types


def quad(*args, **kwargs):
    from scipy.integrate import quad as real  # the stand-in has left sys.modules by now

    return real(*args, **kwargs)


def import_datasketch() -> None:
    if "datasketch" in sys.modules or "scipy.integrate" in sys.modules:
        return
    stand_in = types.ModuleType("scipy.integrate", __doc__)
    stand_in.quad = quad
    sys.modules["scipy.integrate"] = stand_in
    try:
        import datasketch  # noqa: F401
    finally:
        if sys.modules.get("scipy.integrate") is stand_in:
            del sys.modules["scipy.integrate"]
