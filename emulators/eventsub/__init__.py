"""EventSub messages as Twitch sends them: built, signed and delivered to a callback."""
