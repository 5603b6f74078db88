"""Bad notification settings are refused at load, naming the place and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from noc.errors import ValidationFailed
from noc.settings import load_settings

CHANNELS = """\
notify:
  channels:
    mail: {kind: email, host: 127.0.0.1, sender: noc@example.net}
    ding: {kind: dingtalk, url: "http://127.0.0.1:1/robot/send?access_token=t", secret: SECx}
"""


def refused(tmp_path: Path, text: str) -> str:
    path = tmp_path / "noc.yaml"
    path.write_text(text)
    with pytest.raises(ValidationFailed) as caught:
        load_settings(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("tail", "says"),
    [
        ("  recipients: [{name: a, channel: nowhere}]\n", "recipients[0].channel: no channel named 'nowhere'"),
        ("  recipients: [{name: a, channel: mail}]\n", "recipients[0].address: a email channel needs"),
        ("  recipients: [{name: a, channel: mail, address: '+8613800000000'}]\n", "is not an e-mail address"),
        ("  recipients: [{name: a, channel: ding}, {name: a, channel: ding}]\n", "recipients[1].name: 'a' is named"),
        ("  routes: [{events: [opened], recipients: [ghost]}]\n", "routes[0].recipients: no recipient named 'ghost'"),
        ("  routes: [{events: [opened]}]\n", "a route names roles or recipients"),
        ("  routes: [{events: [exploded], roles: [noc]}]\n", "notify.routes[0].events[0]: Input should be"),
        ("  recipients: [{name: a, channel: ding, language: fr}]\n", "notify.recipients[0].language"),
    ],
)
def test_references_and_values_are_checked(tmp_path: Path, tail: str, says: str) -> None:
    message = refused(tmp_path, CHANNELS + tail)
    assert says in message and "noc.yaml:" in message


@pytest.mark.parametrize(
    ("channel", "says"),
    [
        ("{kind: dingtalk, url: 'ftp://x/robot'}", "noc.yaml:3: notify.channels.bad.url"),
        ("{kind: webhook, url: 'http://127.0.0.1:1/h', secret: short}", "noc.yaml:3: notify.channels.bad.secret"),
        ("{kind: email, host: h, sender: nobody}", "noc.yaml:3: notify.channels.bad.sender"),
        ("{kind: email, host: h, sender: a@b.c, username: u}", "username and password go together"),
        (
            "{kind: sms, url: 'http://127.0.0.1:1/sms', body_template: '{\"to\": $phone}'}",
            "unknown placeholder(s) phone",
        ),
        ("{kind: sms, url: 'http://127.0.0.1:1/sms', body_template: '{\"to\": $to, $text}'}", "not JSON once"),
        ("{kind: sms, url: 'http://127.0.0.1:1/sms', body_template: 'cost: 5$'}", "a '$' that is not"),
        ("{kind: pager, url: 'http://127.0.0.1:1/'}", "notify.channels.bad"),
    ],
)
def test_channels_are_checked(tmp_path: Path, channel: str, says: str) -> None:
    assert says in refused(tmp_path, f"notify:\n  channels:\n    bad: {channel}\n")


def test_the_public_url_must_be_an_http_address(tmp_path: Path) -> None:
    assert "web.public_url" in refused(tmp_path, "web: {public_url: 'noc.example.net'}\n")


def test_a_form_template_is_not_json_checked(tmp_path: Path) -> None:
    path = tmp_path / "noc.yaml"
    path.write_text(
        "notify:\n  channels:\n    sms: {kind: sms, url: 'http://127.0.0.1:1/sms', "
        "content_type: application/x-www-form-urlencoded, body_template: 'to=$to&msg=$text'}\n"
    )
    assert load_settings(path).notify.channels["sms"].kind == "sms"
