"""Who made a thing saved on this server (a collection, a fine-tuned model), and who may see it.

A browser session's things are private to it when they carry the name vecexplore suggested, and shared with
every session when the user typed a name; what the command line makes is shared."""

from __future__ import annotations

CLI_OWNER = "cli"


def created_by(owner: str, viewer: str | None) -> str:
    """Who made a thing, as session ``viewer`` should read it."""
    if not owner:
        return "unknown (an older store)"
    if owner == CLI_OWNER:
        return "the command line"
    return "you" if owner == viewer else "another session"


def may_see(owner: str, shared: bool, viewer: str | None) -> bool:
    """Whether ``viewer`` (a session id; None: the command line, which sees everything) may list a thing."""
    return viewer is None or shared or owner == viewer


def needs_confirmation(owner: str, viewer: str | None, confirmed: bool) -> bool:
    """Whether session ``viewer`` must confirm before renaming or deleting a thing ``owner`` made (it changes for
    everyone who uses it); the command line (None) never has to."""
    return viewer is not None and owner != viewer and not confirmed
