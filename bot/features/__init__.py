"""The features, one package each. This list is the only place that names them all: a
new feature is a new package with a `register(registry)` plus one line here.

The order is the menu's order; intents are tried by each conversation's own rank.
"""

import functools

from bot.features import (
    accounts,
    cases,
    comments,
    cyberbullying,
    friend_requests,
    impersonation,
    yearly,
)
from bot.kernel.registry import Registry

FEATURES = (friend_requests, cyberbullying, impersonation, accounts, comments, cases, yearly)


def build_registry() -> Registry:
    registry = Registry()
    for feature in FEATURES:
        feature.register(registry)
    return registry


@functools.cache
def default_registry() -> Registry:
    """The registry every service and page of this process shares (built once; features
    only register at start-up, so nothing changes it afterwards)."""
    return build_registry()
