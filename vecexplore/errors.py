"""The one error type vecexplore raises for problems a user can fix."""


class VecexploreError(ValueError):
    """Bad input or setup. The message says what is wrong and what to do about it."""


class Cancelled(VecexploreError):
    """Long work stopped at the user's request; nothing half-done was kept."""
