"""Send signed EventSub messages to a callback, as Twitch would.

python -m emulators.eventsub trigger stream.online --login cool_user \
    --title "Best Stream Ever" --category Fortnite
python -m emulators.eventsub trigger channel.update --login cool_user \
    --title "New title" --duplicate
python -m emulators.eventsub trigger channel.raid --login cool_user \
    --raided night_owl --viewers 1234
python -m emulators.eventsub revoke stream.online --login cool_user --reason user_removed
python -m emulators.eventsub verify --login cool_user
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import uuid
from datetime import UTC, datetime

import requests

from emulators.eventsub.messages import (
    RAID,
    TITLE_CHANGE_LEAD,
    VERSIONS,
    notification_body,
    revocation_body,
    signed_message,
    verification_body,
)
from emulators.twitch.config import running_emulator_url
from emulators.twitch.roster import Roster, RosterError, load_records
from shared.eventsub import NOTIFICATION, REVOCATION, VERIFICATION

# The notifications that change what the Twitch emulator holds about a channel.
STATE_CHANGES = ("stream.online", "stream.offline", "channel.update")
REVOCATION_REASONS = (
    "authorization_revoked",
    "user_removed",
    "notification_failures_exceeded",
    "version_removed",
)


def main(argv=None) -> int:
    """Parse the command line, send the message(s), print what the callback said."""
    args = parser().parse_args(argv)
    secret = args.secret or os.environ.get("TWITCH_WEBHOOK_SECRET", "local-webhook-secret")
    known = roster_user(args.login)
    name = args.name or (known.display_name if known else None)
    broadcaster_id = args.broadcaster_id or (known.id if known else None)
    if args.command == "trigger":
        if args.type == RAID and not args.raided:
            print("a channel.raid needs --raided LOGIN", file=sys.stderr)
            return 2
        sends = notifications(args, name, broadcaster_id)
    elif args.command == "revoke":
        body = revocation_body(
            args.type, args.login, args.to, args.reason, broadcaster_id=broadcaster_id
        )
        sends = [(REVOCATION, body, None)]
    else:
        challenge = uuid.uuid4().hex
        body = verification_body(args.type, args.login, args.to, challenge)
        sends = [(VERIFICATION, body, None)]
    ok, accepted = True, []
    for message_type, body, sent_at in sends:
        headers, raw = signed_message(secret, message_type, body, args.message_id, sent_at)
        for attempt in range(2 if args.duplicate else 1):
            response = requests.post(args.to, data=raw, headers=headers, timeout=10)
            label = "duplicate" if attempt else message_type
            print(
                f"{label} {body['subscription']['type']} {headers['Twitch-Eventsub-Message-Id']}"
                f" -> {response.status_code} {response.text.strip()[:200]}"
            )
            ok = ok and response.ok
        if response.ok and message_type == NOTIFICATION:
            accepted.append(body)
    if args.command == "trigger" and args.twitch:
        keep_twitch_in_step(args.twitch, accepted)
    return 0 if ok else 1


def keep_twitch_in_step(twitch_url: str, accepted: list[dict]) -> None:
    """Tell the Twitch emulator at ``twitch_url``, if it runs, the stream and channel
    changes of the notifications the callback accepted, so that its state (and so its
    controls and Helix) agree with what the app was told. Prints what came of it."""
    url = twitch_url.rstrip("/") + "/_emulator/record"
    held = None
    for body in accepted:
        subscription_type = body["subscription"]["type"]
        if subscription_type not in STATE_CHANGES:
            continue
        try:
            answer = requests.post(
                url, json={"type": subscription_type, "event": body["event"]}, timeout=5
            )
        except requests.RequestException:
            print(f"Twitch emulator: none answers at {twitch_url}, so no state to keep in step")
            return
        if not answer.ok:
            print(f"Twitch emulator: {answer_error(answer)}; its state is unchanged")
            return
        held = answer.json()
    if held:
        print(f"Twitch emulator: {describe_user(held)}")


def answer_error(answer: requests.Response) -> str:
    """The ``error`` of an emulator's refusal, else its status and text."""
    try:
        return str(answer.json()["error"])
    except (ValueError, KeyError, TypeError):
        return f"{answer.status_code} {answer.text.strip()[:200]}"


def describe_user(user: dict) -> str:
    """A user as the emulator now holds it: live or not, title and category."""
    state = f"live (stream {user['stream_id']})" if user["live"] else "offline"
    return f"{user['login']} is {state}: {user['title']} ({user['category'] or 'no category'})"


def notifications(
    args: argparse.Namespace, name: str | None, broadcaster_id: str | None
) -> list[tuple[str, dict, datetime | None]]:
    """The notifications ``trigger`` sends, each with its message time (None: when sent).

    A stream.online with a title or category follows a channel.update, as a streamer
    sets the title and then goes live: the update is stamped ``TITLE_CHANGE_LEAD``
    before the stream starts, the go-live when it is sent.
    """
    started_at = datetime.now(UTC)
    body_of = functools.partial(
        notification_body,
        login=args.login,
        callback=args.to,
        name=name,
        broadcaster_id=broadcaster_id,
        title=args.title,
        category=args.category,
    )
    sends: list[tuple[str, dict, datetime | None]] = []
    if args.type == "stream.online" and (args.title or args.category):
        sends.append((NOTIFICATION, body_of("channel.update"), started_at - TITLE_CHANGE_LEAD))
    body = body_of(
        args.type, started_at=started_at, raided=raided_channel(args.raided), viewers=args.viewers
    )
    sends.append((NOTIFICATION, body, None))
    return sends


def raided_channel(login: str | None) -> dict | None:
    """The raided channel of a channel.raid: its login, and the roster's id and name."""
    if not login:
        return None
    known = roster_user(login)
    return {
        "login": login,
        "id": known.id if known else None,
        "name": known.display_name if known else None,
    }


def roster_user(login: str):
    """The Twitch emulator's roster user with this login (its display name and id), or
    None for a login the roster does not know (``TWITCH_EMULATOR_ROSTER``, as the
    emulator reads it, else the default roster)."""
    try:
        records = load_records(os.environ.get("TWITCH_EMULATOR_ROSTER") or None)
        return Roster(records).find(login)
    except RosterError:
        return None


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    default_url = (
        os.environ.get("PUBLIC_URL", "http://localhost:5000").rstrip("/") + "/api/callback"
    )
    top = argparse.ArgumentParser(
        prog="python -m emulators.eventsub",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = top.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("trigger", "send a notification"),
        ("revoke", "send a revocation"),
        ("verify", "send a callback verification challenge"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "type",
            nargs="?" if name == "verify" else None,
            default="stream.online",
            choices=sorted(VERSIONS),
        )
        command.add_argument("--login", required=True, help="broadcaster login")
        command.add_argument(
            "--name",
            help="broadcaster display name (default: the Twitch "
            "emulator's for a user it knows, else the login)",
        )
        command.add_argument(
            "--broadcaster-id",
            help="broadcaster user id (default: the "
            "emulator's for a user it knows, else derived from the login)",
        )
        command.add_argument("--to", default=default_url, help=f"callback URL ({default_url})")
        command.add_argument("--secret", help="webhook secret (default: $TWITCH_WEBHOOK_SECRET)")
        command.add_argument("--message-id", help="message id (default: a new one)")
        command.add_argument(
            "--duplicate", action="store_true", help="send the same message id a second time"
        )
    twitch_url = running_emulator_url()
    commands.choices["trigger"].add_argument(
        "--twitch",
        metavar="URL",
        default=twitch_url,
        help="the Twitch emulator told of each stream and channel change the callback "
        f"accepted, so that its controls and Helix agree, if it runs ({twitch_url})",
    )
    commands.choices["trigger"].add_argument(
        "--no-twitch",
        dest="twitch",
        action="store_const",
        const=None,
        help="tell no Twitch emulator",
    )
    commands.choices["trigger"].add_argument("--title", default="", help="stream title")
    commands.choices["trigger"].add_argument("--category", default="", help="category name")
    commands.choices["trigger"].add_argument(
        "--raided", metavar="LOGIN", help="channel.raid: the raided channel's login"
    )
    commands.choices["trigger"].add_argument(
        "--viewers", type=int, default=0, help="channel.raid: viewers in the raid"
    )
    commands.choices["revoke"].add_argument(
        "--reason", default="authorization_revoked", choices=REVOCATION_REASONS
    )
    return top


if __name__ == "__main__":
    sys.exit(main())
