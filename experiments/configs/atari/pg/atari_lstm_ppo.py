"""PPO on Atari with the recurrent conv agent (``AtariLstmAgent``).

The feed-forward PPO settings (``atari_ff_ppo``, Schulman et al. 2017) with the A3C LSTM
network (256 cells after the 256-unit layer, Mnih et al. 2016). Minibatches split the batch
by env, so each holds whole 128-step sequences (8 envs in 4 minibatches of 2); finished envs
wait for the batch end to reset (WaitReset collectors).
"""

from experiments.configs.atari.pg.atari_ff_ppo import SMOKE as FF_SMOKE
from experiments.configs.atari.pg.atari_ff_ppo import configs as ff_configs

configs = dict()

configs["ppo"] = dict(ff_configs["ppo"], model=dict(fc_sizes=256, lstm_size=256))

SMOKE = dict(FF_SMOKE, model=dict(fc_sizes=32, lstm_size=16))
