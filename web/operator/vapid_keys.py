"""Operator command: ``flask --app web vapid-keys``, a fresh VAPID key pair for Web Push."""

from __future__ import annotations

import click

from shared.vapid import new_key_pair


@click.command("vapid-keys")
def vapid_keys():
    """Print a new VAPID key pair as the two settings lines (VAPID_PUBLIC_KEY and
    VAPID_PRIVATE_KEY) to put in the environment. Changing the pair makes every
    browser's push subscription useless: viewers then turn their alerts on again."""
    public, private = new_key_pair()
    click.echo(f"VAPID_PUBLIC_KEY={public}")
    click.echo(f"VAPID_PRIVATE_KEY={private}")
