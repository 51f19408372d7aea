"""An rlpyt-style launch script: 2 learning rates x 2 runs of ``tiny_a2c_train.py`` on 2 CPU slots.

Written as rlpyt's experiment launch scripts are, against the original API only.
"""

import os.path as osp

from rlpyt.utils.launching.affinity import encode_affinity
from rlpyt.utils.launching.exp_launcher import run_experiments
from rlpyt.utils.launching.variant import VariantLevel, make_variants

script = osp.join(osp.dirname(osp.abspath(__file__)), "tiny_a2c_train.py")
affinity_code = encode_affinity(
    n_cpu_core=2,
    n_gpu=0,
    cpu_per_run=1,
)
runs_per_setting = 2
experiment_title = "tiny_a2c"
variant_levels = list()

learning_rates = [1e-3, 3e-4]
values = list(zip(learning_rates))
dir_names = ["lr_{}".format(*v) for v in values]
keys = [("algo", "learning_rate")]
variant_levels.append(VariantLevel(keys, values, dir_names))

variants, log_dirs = make_variants(*variant_levels)

default_config_key = "tiny"

if __name__ == "__main__":
    run_experiments(
        script=script,
        affinity_code=affinity_code,
        experiment_title=experiment_title,
        runs_per_setting=runs_per_setting,
        variants=variants,
        log_dirs=log_dirs,
        common_args=(default_config_key,),
    )
