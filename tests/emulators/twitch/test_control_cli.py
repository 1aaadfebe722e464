"""The control command's help: where a subscription id comes from, in plain text."""

from emulators.twitch.control_cli import parser


def command_help(name: str) -> str:
    commands = next(a for a in parser()._actions if a.dest == "command")
    return commands.choices[name].format_help()


def test_help_says_where_a_subscription_id_comes_from():
    top = parser().format_help()
    assert (
        "SUBSCRIPTION_ID is an EventSub subscription's id: `make flask ARGS='leases list'`" in top
    )
    for name in ("resend", "revoke"):
        assert "make flask ARGS='leases" in command_help(name)


def test_help_shows_no_markup():
    assert "``" not in parser().format_help()
