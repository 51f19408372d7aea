"""Launcher process for the Ctrl-C test: ``python launch_fake.py <json of run_experiments kwargs>``.

The kwargs hold ``variants`` and ``log_dirs`` directly; the script is ``fake_train.py``.
"""

import json
import os
import sys

from rlpyt.utils.launching.exp_launcher import run_experiments

if __name__ == "__main__":
    kwargs = json.loads(sys.argv[1])
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_train.py")
    run_experiments(script=script, **kwargs)
