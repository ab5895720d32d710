"""The made-up feature's pure rule."""


def urgent(*, holds_pupil_data: bool) -> bool:
    return holds_pupil_data
