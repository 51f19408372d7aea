"""Tests for variants (make_variants, update_config, save/load) and train-script arguments."""

import doctest
import json
import os

import pytest

from rlpyt.utils.launching import variant as variant_module
from rlpyt.utils.launching.arguments import get_args
from rlpyt.utils.launching.variant import (
    VARIANT,
    VariantLevel,
    load_variant,
    make_variants,
    save_variant,
    update_config,
)

DEFAULT = dict(
    algo=dict(learning_rate=1e-3, discount=0.99, optim=dict(eps=1e-8)),
    env=dict(id="CartPole-v1"),
    model=dict(hidden_sizes=[64, 64]),
    runner=dict(n_steps=1e5),
    name="default",
)


class TestMakeVariants:
    def test_product_of_levels(self):
        lr = VariantLevel([("algo", "learning_rate")], [(1e-3,), (3e-4,)], ["lr3", "lr4"])
        env = VariantLevel(
            keys=[("env", "id"), ("runner", "n_steps")],
            values=[("CartPole-v1", 1e4), ("Acrobot-v1", 2e4), ("Pendulum-v1", 3e4)],
            dir_names=["cart", "acro", "pend"],
        )
        variants, log_dirs = make_variants(lr, env)
        assert len(variants) == len(log_dirs) == 6
        assert log_dirs == [
            os.path.join(a, b) for a in ["lr3", "lr4"] for b in ["cart", "acro", "pend"]
        ]
        assert variants[4] == dict(
            algo=dict(learning_rate=3e-4), env=dict(id="Acrobot-v1"), runner=dict(n_steps=2e4)
        )
        assert len({json.dumps(v, sort_keys=True) for v in variants}) == 6

    def test_levels_are_independent_copies(self):
        hidden = VariantLevel([("model", "hidden_sizes")], [([8],), ([16, 16],)], ["s", "l"])
        seed = VariantLevel(["name"], [("a",), ("b",)], ["a", "b"])  # a str key is top level
        variants, log_dirs = make_variants(hidden, seed)
        assert variants[0] == dict(model=dict(hidden_sizes=[8]), name="a")
        variants[0]["model"]["hidden_sizes"].append(1)
        assert variants[1]["model"]["hidden_sizes"] == [8]
        assert log_dirs[3] == os.path.join("l", "b")

    def test_no_levels(self):
        assert make_variants() == ([{}], [""])

    @pytest.mark.parametrize(
        "levels",
        [
            [VariantLevel([("a",)], [(1,), (2,)], ["x"])],  # fewer dir names than settings
            [VariantLevel([("a",), ("b",)], [(1,), (2,)], ["x", "y"])],  # one value, two keys
            [VariantLevel([("a",)], [1, 2], ["x", "y"])],  # values not tuples
            [VariantLevel([("a",)], [(1,), (2,)], ["x", "x"])],  # duplicate dirs
            [  # distinct names per level, but two joined dirs collide: a/b/c
                VariantLevel([("a",)], [(1,), (2,)], ["a", "a/b"]),
                VariantLevel([("b",)], [(1,), (2,)], ["b/c", "c"]),
            ],
            [VariantLevel([("a",), ("a", "b")], [(1, 2)], ["x"])],  # path through a value
            [VariantLevel([("a", "b"), ("a",)], [(1, 2)], ["x"])],  # value over a dict
            [VariantLevel([()], [(1,)], ["x"])],
            [VariantLevel([("a",)], [(1,)], [""])],
        ],
    )
    def test_errors(self, levels):
        with pytest.raises(ValueError):
            make_variants(*levels)

    def test_doctest(self):
        assert doctest.testmod(variant_module).failed == 0


class TestUpdateConfig:
    def test_nested_update_leaves_inputs_alone(self):
        variant = dict(algo=dict(learning_rate=5e-4, optim=dict(eps=1e-5)), name="x")
        before = json.dumps(DEFAULT, sort_keys=True)
        new = update_config(DEFAULT, variant)
        assert new["algo"] == dict(learning_rate=5e-4, discount=0.99, optim=dict(eps=1e-5))
        assert new["name"] == "x" and new["env"] == DEFAULT["env"]
        assert json.dumps(DEFAULT, sort_keys=True) == before
        new["env"]["id"] = "changed"  # nested dicts are copies
        assert DEFAULT["env"]["id"] == "CartPole-v1"

    def test_leaf_lists_are_replaced_whole(self):
        new = update_config(DEFAULT, dict(model=dict(hidden_sizes=[8])))
        assert new["model"]["hidden_sizes"] == [8]

    @pytest.mark.parametrize(
        "variant, path",
        [
            (dict(algo=dict(learnin_rate=1.0)), "algo.learnin_rate"),
            (dict(algo=dict(optim=dict(betas=(0.9, 0.9)))), "algo.optim.betas"),
            (dict(sampler=dict(batch_B=2)), "sampler"),
        ],
    )
    def test_unknown_key_named(self, variant, path):
        with pytest.raises(KeyError, match=path.replace(".", r"\.")):
            update_config(DEFAULT, variant)

    @pytest.mark.parametrize(
        "variant", [dict(name=dict(a=1)), dict(env="CartPole-v1"), dict(algo=dict(optim=1.0))]
    )
    def test_structure_mismatch(self, variant):
        with pytest.raises(TypeError):
            update_config(DEFAULT, variant)


class TestSaveLoad:
    def test_round_trip(self, tmp_path):
        variants, log_dirs = make_variants(
            VariantLevel([("algo", "learning_rate"), ("model", "hidden_sizes")],
                         [(1e-3, [8]), (3e-4, [16, 16])], ["a", "b"])
        )  # fmt: skip
        for variant, log_dir in zip(variants, log_dirs):
            path = save_variant(variant, str(tmp_path / log_dir))
            assert path == str(tmp_path / log_dir / VARIANT)
        for variant, log_dir in zip(variants, log_dirs):
            assert load_variant(str(tmp_path / log_dir)) == variant
            assert update_config(DEFAULT, load_variant(str(tmp_path / log_dir)))

    def test_overwrite_tuples_and_no_partial_file(self, tmp_path):
        save_variant(dict(a=1), str(tmp_path))
        save_variant(dict(a=(1, 2)), str(tmp_path))
        assert load_variant(str(tmp_path)) == dict(a=[1, 2])  # JSON has no tuples
        with pytest.raises(TypeError):
            save_variant(dict(a=object()), str(tmp_path))
        assert load_variant(str(tmp_path)) == dict(a=[1, 2])
        assert sorted(os.listdir(tmp_path)) == [VARIANT]


class TestGetArgs:
    def test_convention(self):
        args = get_args(["0slt_2cpu_0gpu_1cpr_0hto", "/data/exp/lr_3", "2", "tiny"])
        assert args.slot_affinity_code == "0slt_2cpu_0gpu_1cpr_0hto"
        assert args.log_dir == "/data/exp/lr_3"
        assert args.run_ID == 2 and args.config_key == "tiny" and args.extra_args == []

    def test_optional_and_extra(self):
        args = get_args(["1slt_2cpu_0gpu_1cpr", "d", "0"])
        assert args.config_key is None
        assert get_args(["1slt_2cpu_0gpu_1cpr", "d", "0", "k", "x", "y"]).extra_args == ["x", "y"]

    def test_bad_run_id(self, capsys):
        with pytest.raises(SystemExit):
            get_args(["1slt_2cpu_0gpu_1cpr", "d", "zero"])
