"""`AtariEnv`: Atari 2600 games on ale-py with rlpyt's preprocessing, and `AtariTrajInfo`."""

from __future__ import annotations

import warnings
from typing import Any

import cv2
import numpy as np
from ale_py import Action, ALEInterface, LoggerMode, roms

from rlpyt.envs.base import Env, EnvStep
from rlpyt.samplers.collections import TrajInfo
from rlpyt.spaces.int_box import IntBox
from rlpyt.utils.collections import namedarraytuple

EnvInfo = namedarraytuple("EnvInfo", ["game_score", "traj_done", "timeout"])
"""``env_info`` of :class:`AtariEnv`: unclipped step score (float32), game over, time limit."""


class AtariTrajInfo(TrajInfo):
    """Per-trajectory statistics for Atari: :class:`~rlpyt.samplers.collections.TrajInfo`'s
    fields plus ``GameScore``.

    Collectors make one per env, call :meth:`step` after every env step and ``terminate`` when
    the trajectory ends (``traj_done``); the runner logs its public fields. ``GameScore`` sums
    the unclipped ``env_info.game_score``, so it is the real game score even when rewards are
    clipped.

    Args:
        discount: discount used for ``DiscountedReturn``.
    """

    def __init__(self, discount: float = 1, **kwargs: Any) -> None:
        super().__init__(discount=discount, **kwargs)
        self.GameScore = 0.0

    def step(
        self, observation: Any, action: Any, reward: Any, done: Any, agent_info: Any, env_info: Any
    ) -> None:
        """Accumulate one step's reward (as ``TrajInfo``) and its unclipped score."""
        super().step(observation, action, reward, done, agent_info, env_info)
        self["GameScore"] += float(getattr(env_info, "game_score", 0))  # item access: faster


class AtariEnv(Env):
    """An Atari 2600 game through ``ale_py.ALEInterface``, preprocessed as in rlpyt/DQN.

    Samplers create it from ``EnvCls=AtariEnv, env_kwargs=dict(game="pong")``. Each step
    repeats the action for ``frame_skip`` frames, sums the score, max-pools the grayscale
    screens of the last two frames (removes sprite flicker; with ``frame_skip=1`` the single
    frame is used), resizes to ``obs_size`` with ``cv2.INTER_AREA`` and pushes the result onto
    a stack of ``num_img_obs`` frames (most recent last).

    Life loss (``episodic_lives=True``): a step that loses a life without ending the game
    returns ``done=True, traj_done=False``. The game itself continues: inside that same step
    the frame stack is cleared to zeros and (if ``fire_on_reset``) FIRE is pressed, so the
    returned observation already starts the new life. A :meth:`reset` right after such a step
    does not touch the game and returns that observation again; collectors that reset only on
    ``traj_done`` and collectors that reset on every ``done`` therefore see the same data.
    Every other :meth:`reset` is a hard reset: new game, ``U{0..max_start_noops}`` no-ops, FIRE
    if ``fire_on_reset``.

    Time limit: after ``horizon`` steps since the last hard reset the step returns
    ``done=True, traj_done=True, timeout=True`` (``timeout=False`` if the game ended on that
    very step).

    Args:
        game: snake_case ROM name shipped with ale-py (``"pong"``, ``"space_invaders"``).
        frame_skip: frames per step (the action is repeated).
        num_img_obs: number of stacked frames in an observation.
        clip_reward: return ``sign(score)`` as reward (``game_score`` stays unclipped).
        episodic_lives: end episodes (``done``) at every life loss.
        fire_on_reset: press FIRE after reset and after each life loss (needed to start some
            games, e.g. Breakout).
        max_start_noops: maximum number of random no-ops after a hard reset.
        repeat_action_probability: ALE sticky-action probability (0 in rlpyt, 0.25 in v5).
        horizon: maximum steps per game.
        obs_size: ``(H, W)`` of each frame.
    """

    def __init__(
        self,
        game: str = "pong",
        frame_skip: int = 4,
        num_img_obs: int = 4,
        clip_reward: bool = True,
        episodic_lives: bool = True,
        fire_on_reset: bool = False,
        max_start_noops: int = 30,
        repeat_action_probability: float = 0.0,
        horizon: int = 27000,
        obs_size: tuple[int, int] = (84, 84),
    ) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._rom = roms.get_rom_path(game)
        if self._rom is None:
            raise ValueError(
                f"AtariEnv: unknown game {game!r}; expected a snake_case ROM name shipped with "
                f"ale-py, one of {roms.get_all_rom_ids()}"
            )
        if frame_skip < 1 or num_img_obs < 1:
            raise ValueError(
                f"AtariEnv: frame_skip ({frame_skip}) and num_img_obs ({num_img_obs}) must be >= 1"
            )
        self.game = game
        self._frame_skip = int(frame_skip)
        self._clip_reward = clip_reward
        self._episodic_lives = episodic_lives
        self._fire_on_reset = fire_on_reset
        self._max_start_noops = int(max_start_noops)
        self._horizon = int(horizon)
        self._obs_hw = (int(obs_size[0]), int(obs_size[1]))
        self._rng = np.random.default_rng()

        ALEInterface.setLoggerMode(LoggerMode.Error)
        self.ale = ALEInterface()
        self.ale.setFloat("repeat_action_probability", float(repeat_action_probability))
        self._load_rom(int(self._rng.integers(2**31)))
        self._action_set = list(self.ale.getMinimalActionSet())

        h, w = self.ale.getScreenDims()
        self._raw = np.zeros((2, h, w), dtype=np.uint8)  # last two raw frames of a step
        self._pooled = np.zeros((h, w), dtype=np.uint8)
        self._obs = np.zeros((num_img_obs, *self._obs_hw), dtype=np.uint8)
        self._observation_space = IntBox(0, 256, self._obs.shape, dtype="uint8")
        self._action_space = IntBox(0, len(self._action_set))
        self._lives = 0
        self._step_counter = 0
        self._soft_reset = False  # True right after a life-loss done (reset keeps the game)
        self.reset()

    def _load_rom(self, ale_seed: int) -> None:
        self.ale.setInt("random_seed", ale_seed)
        self.ale.loadROM(self._rom)  # (re)loading applies the settings above

    def seed(self, seed: int | None = None) -> None:
        """Seed ALE (``random_seed``, reloads the ROM), the no-op generator and action space.

        The next :meth:`reset` is a hard reset.
        """
        self._seed = seed
        self._rng = np.random.default_rng(seed)
        self._load_rom(int(self._rng.integers(2**31)))
        self._action_space.seed(seed)
        self._soft_reset = False

    def reset(self) -> np.ndarray:
        """Start a new game (or continue after a life loss); returns ``[num_img_obs, H, W]``
        uint8."""
        if self._soft_reset:
            self._soft_reset = False
            return self._obs.copy()
        self.ale.reset_game()
        for _ in range(int(self._rng.integers(self._max_start_noops + 1))):
            self.ale.act(Action.NOOP)
            if self.ale.game_over():
                self.ale.reset_game()
        if self._fire_on_reset:
            self.ale.act(Action.FIRE)
        self._lives = self.ale.lives()
        self._step_counter = 0
        self._restart_stack()
        return self._obs.copy()

    def step(self, action: Any) -> EnvStep:
        """Play ``frame_skip`` frames of ``action`` (an index into the minimal action set).

        Returns:
            ``EnvStep(observation [num_img_obs, H, W] uint8, reward float32, done bool,
            EnvInfo(game_score float32, traj_done bool, timeout bool))``.
        """
        a = self._action_set[int(action)]
        ale, fs = self.ale, self._frame_skip
        score = 0
        for i in range(fs):
            score += ale.act(a)
            if i >= fs - 2:
                ale.getScreenGrayscale(self._raw[i - fs + 2])
        if fs > 1:
            np.maximum(self._raw[0], self._raw[1], out=self._pooled)
        else:
            self._pooled[...] = self._raw[1]
        self._obs[:-1] = self._obs[1:]
        self._resize_into(self._obs[-1], self._pooled)

        self._step_counter += 1
        game_over = ale.game_over()
        timeout = self._step_counter >= self._horizon and not game_over
        traj_done = game_over or timeout
        lives = ale.lives()
        lost_life = lives < self._lives and not game_over
        self._lives = lives
        done = traj_done or (lost_life and self._episodic_lives)
        if done and not traj_done:  # life lost: start the next life inside this step
            if self._fire_on_reset:
                score += ale.act(Action.FIRE)
            self._restart_stack()
            self._soft_reset = True
        else:
            self._soft_reset = False
        reward = np.sign(score) if self._clip_reward else score
        info = EnvInfo(game_score=np.float32(score), traj_done=traj_done, timeout=timeout)
        return EnvStep(self._obs.copy(), np.float32(reward), done, info)

    def _restart_stack(self) -> None:
        """Zero the frame stack and put the current screen in its last slot."""
        self._obs[...] = 0
        self.ale.getScreenGrayscale(self._raw[1])
        self._resize_into(self._obs[-1], self._raw[1])

    def _resize_into(self, dst: np.ndarray, src: np.ndarray) -> None:
        h, w = self._obs_hw
        cv2.resize(src, (w, h), dst=dst, interpolation=cv2.INTER_AREA)

    def get_obs(self) -> np.ndarray:
        """A copy of the current observation ``[num_img_obs, H, W]`` uint8."""
        return self._obs.copy()

    @property
    def lives(self) -> int:
        """Lives left in the current game."""
        return self.ale.lives()

    @property
    def action_meanings(self) -> list[str]:
        """Names of the minimal action set, in action-index order (e.g. ``["NOOP", "FIRE"]``)."""
        return [a.name for a in self._action_set]
