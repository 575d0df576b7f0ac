"""The README's command line, `python -m d2lft.finetune`: its options and their checks."""

from __future__ import annotations

import pytest

from d2lft import finetune


def test_a_precision_needs_the_fast_path(capsys):
    with pytest.raises(SystemExit) as stop:
        finetune.main(["--precision", "bf16"])
    assert stop.value.code == 2 and "--precision applies to the fast path" in capsys.readouterr().err


def test_an_unknown_precision_is_refused_with_the_choices(capsys):
    with pytest.raises(SystemExit) as stop:
        finetune.main(["--fast", "--precision", "fp16"])
    assert stop.value.code == 2 and "choose from 'fp32', 'bf16'" in capsys.readouterr().err
