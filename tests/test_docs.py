"""The Python snippets in README.md and docs/ run as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Snippets that need objects defined elsewhere (a sampler, a model) are not runnable alone.
RUNNABLE = {"README.md": [1]}  # [0] trains for 1e5 steps (see tests/examples)


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_snippets_run(name, capsys):
    blocks = python_blocks(ROOT / name)
    assert blocks, f"{name} has no python snippet"
    for i in RUNNABLE[name]:
        exec(compile(blocks[i], f"{name}[{i}]", "exec"), {})
    assert "(128, 8)" in capsys.readouterr().out
