"""A2C on Atari with the recurrent conv agent (``AtariLstmAgent``).

The feed-forward A2C settings (``atari_ff_a2c``) with the A3C LSTM network of Mnih et al. 2016
("Asynchronous Methods for Deep Reinforcement Learning", arXiv:1602.01783): an LSTM of 256
cells after the 256-unit layer. Finished envs wait for the batch end to reset (WaitReset
collectors), so each env's column is one stretch of the recurrent state.
"""

from experiments.configs.atari.pg.atari_ff_a2c import SMOKE as FF_SMOKE
from experiments.configs.atari.pg.atari_ff_a2c import configs as ff_configs

configs = dict()

configs["a2c"] = dict(ff_configs["a2c"], model=dict(fc_sizes=256, lstm_size=256))

SMOKE = dict(FF_SMOKE, model=dict(fc_sizes=32, lstm_size=16))
