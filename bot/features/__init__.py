"""The features, one package each. This list is the only place that names them all: a
new feature is a new package with a `register(registry)` plus one line here.

The order is the menu's order. Free text is read by the classifier (bot/understanding),
trained on the corpus for the conversations registered here.
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


def build_registry(features: Iterable[ModuleType] = FEATURES) -> Registry:
    """A registry every feature has registered into (a test may add a made-up one)."""
    registry = Registry()
    for feature in features:  # each feature package has a register(registry)
        feature.register(registry)
    return registry
