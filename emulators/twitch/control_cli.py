"""python -m emulators.twitch control <command>: drive a running emulator.

control go-live cool_user --title "Best Stream Ever" --category Fortnite
control update cool_user --title "New title"
control go-offline cool_user
control viewers speedy_sam 1234
control raid cool_user night_owl --viewers 1234
control resend SUBSCRIPTION_ID
control revoke SUBSCRIPTION_ID --reason user_removed
control fail-deliveries on|off
control expire-token --login cool_user
control reset
control state

SUBSCRIPTION_ID is an EventSub subscription's id: `make flask ARGS='leases list'`
(`flask --app web leases list` elsewhere) lists the app's, after each type and status;
`control state` lists every subscription the emulator holds.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys

import requests

from emulators.twitch.config import running_emulator_url
from emulators.twitch.subscriptions import REVOCATION_REASONS


def parser() -> argparse.ArgumentParser:
    """The command-line interface of the controls."""
    default_url = running_emulator_url()
    top = argparse.ArgumentParser(
        prog="python -m emulators.twitch control",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--url", default=default_url, help=f"the emulator ({default_url})")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=argparse.SUPPRESS, help="the emulator")
    commands = top.add_subparsers(dest="command", required=True)
    add = functools.partial(commands.add_parser, parents=[common])
    for name in ("go-live", "update", "go-offline"):
        command = add(name)
        command.add_argument("login")
        if name != "go-offline":
            command.add_argument("--title")
            command.add_argument("--category")
    raid = add("raid")
    raid.add_argument("from", metavar="FROM", help="the raiding channel's login")
    raid.add_argument("to", metavar="TO", help="the raided channel's login")
    raid.add_argument("--viewers", type=int, default=0, help="viewers in the raid (0)")
    viewers = add("viewers")
    viewers.add_argument("login")
    viewers.add_argument("viewers", type=int, help="the live stream's new viewer count")
    subscription_help = "a subscription's id, as `make flask ARGS='leases list'` lists it"
    for name in ("resend", "revoke"):
        add(name).add_argument("subscription_id", metavar="SUBSCRIPTION_ID", help=subscription_help)
    revoke = commands.choices["revoke"]
    revoke.add_argument("--reason", default="authorization_revoked", choices=REVOCATION_REASONS)
    add("fail-deliveries").add_argument("switch", choices=("on", "off"))
    expire = add("expire-token").add_mutually_exclusive_group(required=True)
    expire.add_argument("--token")
    expire.add_argument("--login")
    add("reset")
    add("state")
    return top


def main(argv: list[str] | None = None) -> int:
    """Send one control request, print the JSON answer; 0 when it succeeded."""
    args = parser().parse_args(argv)
    url = args.url.rstrip("/") + "/_emulator/" + args.command
    values = {k: v for k, v in vars(args).items() if k not in ("url", "command") and v is not None}
    if "switch" in values:
        values = {"fail": values.pop("switch") == "on"}
    try:
        if args.command == "state":
            response = requests.get(url, timeout=10)
        else:
            response = requests.post(url, json=values, timeout=10)
    except requests.RequestException as exc:
        print(f"cannot reach the emulator at {args.url}: {exc}", file=sys.stderr)
        return 1
    try:
        print(json.dumps(response.json(), indent=2))
    except ValueError:
        print(response.text)
    return 0 if response.ok else 1
