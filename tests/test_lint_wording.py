"""The one place that checks prose: the full message of each rule on its documented bad example.

Other tests compare codes, positions and numbers; this one keeps the sentences readable and
stable. Change it together with a message, on purpose.
"""

from __future__ import annotations

import pytest

from specc.api import check_text
from specc.lint import RULES, Settings
from specc.lint.settings import ALL

MESSAGES = {
    "W101": "conv1: stride 4 exceeds the 3-wide kernel on axes 0 and 1; "
    "1 of every 4 input rows and columns is never read",
    "W102": "conv1: valid padding leaves the last 1 of 28 input rows and columns unread on axes 0 "
    "and 1: 28 - 3 = 25 is not a multiple of stride 2",
    "W103": "conv1: the 4-wide kernel has no centre, so same padding pads axes 0 and 1 unevenly "
    "(1 before, 2 after)",
    "W201": "conv1: its bias (16 parameters) is cancelled by batch_norm bn1, which subtracts the "
    "per-channel mean; set `bias: false`",
    "W202": "relu1: relu directly after conv1, which already applies relu (`activation: relu`); "
    "keep one of the two",
    "W203": "fc1: its softmax output feeds fc2 (dense); softmax belongs at the output or in a gate "
    "(multiply), not inside the network",
    "W204": "drop: dropout (rate 0.5) is a model output: in training it zeroes part of the "
    "predictions, at inference it does nothing",
    "W205": "drop: dropout (rate 0.5) feeds batch_norm bn, whose moving variance learnt with "
    "dropout on is wrong at inference",
    "W301": "b: nothing reads its output and it is not a model output (outputs: out)",
    "W302": "mask: the input is never used: no layer reads it",
    "W401": "fc: dense on a (7, 7, 64) input acts on the last axis only and gives (7, 7, 10); "
    "add flatten or global_avg_pool before it for one vector per sample",
    "W501": "the model has 102,764,544 parameters, over the budget of 10,000,000 (max-params); "
    "the largest layer is fc1 with 102,764,544",
    "W502": "the layer outputs take 12.2 MiB per sample (float32), over the budget of 10 MiB "
    "(max-activation-mb); the largest is stem's (224, 224, 64) output at 12.2 MiB",
    "I101": "fc: the 7x7 kernel covers the whole (7, 7, 64) input; this is a dense layer of 10 "
    "units on the flattened input (3,136 -> 10)",
    "I102": "proj: a 1x1 convolution is a dense layer applied at every pixel: 64 -> 16 channels",
}


def test_every_rule_has_a_checked_message() -> None:
    assert set(MESSAGES) == set(RULES)


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_message_on_the_bad_example(code: str) -> None:
    rule = RULES[code]
    result = check_text(
        rule.code.bad, "bad.yaml", settings=Settings(**{"select": (ALL,), **rule.options})
    )
    assert [d.message for d in result.diagnostics if d.code == code] == [MESSAGES[code]]
