# Put on PYTHONPATH by bench.common.cli when a run is timed: times this process's stages.
# A timer that cannot be installed stops the command (site.py would only print a warning).
import os
import sys
import traceback

try:
    from bench.common.timing import install_from_env

    install_from_env()
except Exception:
    traceback.print_exc()
    print("bench/common/hook: the stage timer could not be installed", file=sys.stderr)
    sys.stderr.flush()
    os._exit(3)
