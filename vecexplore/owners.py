"""Who made a thing saved on this server (a collection, a fine-tuned model), and who may see it.

A fine-tuned model of a browser session is private to it when it carries the name vecexplore suggested, and shared
with every session when the user typed a name. A collection is private to the session that made it until its owner
marks it shared, and then read-only for the others (:func:`may_read`, :func:`may_change`). The command line acts
as the server's local owner: it sees and changes everything, and what it makes is shared."""

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


def may_read(owner: str, shared: bool, caller: str) -> bool:
    """Whether ``caller`` (a session id, or :data:`CLI_OWNER`) may read (list, search, evaluate, copy) a
    collection: the command line always, a session its own and the shared ones."""
    return caller == CLI_OWNER or shared or owner == caller


def may_change(owner: str, caller: str) -> bool:
    """Whether ``caller`` may write to, rename, share or delete a collection: the command line always, a session
    only its own (a shared collection is read-only for the others; one from an older store, with no owner,
    belongs to the command line)."""
    return caller == CLI_OWNER or owner == caller


def needs_confirmation(owner: str, viewer: str | None, confirmed: bool) -> bool:
    """Whether session ``viewer`` must confirm before renaming or deleting a thing ``owner`` made (it changes for
    everyone who uses it); the command line (None) never has to."""
    return viewer is not None and owner != viewer and not confirmed
