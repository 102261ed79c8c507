"""The one error type vecexplore raises for problems a user can fix."""


class VecexploreError(ValueError):
    """Bad input or setup. The message says what is wrong and what to do about it."""
