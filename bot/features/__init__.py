"""The features, one package each. This list is the only place that names them all: a
new feature is a new package with a `register(registry)` plus one line here.

The order is the menu's order. Free text is matched against the conversations' intents in
that order too, except that the more specific ones in INTENTS_FIRST go first (a comment
about a "fake account" is a comment; "a fake account of the school" is not abuse).
"""

from collections.abc import Iterable
from importlib import import_module
from types import ModuleType

from bot.kernel.registry import Registry

# One line a feature, in menu order.
FEATURES: tuple[ModuleType, ...] = tuple(
    import_module(f"{__name__}.{name}")
    for name in (
        "friend_requests",
        "cyberbullying",
        "impersonation",
        "accounts",
        "comments",
        "staff_concerns",
        "cases",
        "yearly",
    )
)
INTENTS_FIRST = ("staff_concern", "comment", "impersonation", "account_request", "cyberbullying")


def build_registry(features: Iterable[ModuleType] = FEATURES) -> Registry:
    """A registry every feature has registered into (a test may add a made-up one)."""
    registry = Registry(intents_first=INTENTS_FIRST)
    for feature in features:  # each feature package has a register(registry)
        feature.register(registry)
    return registry
