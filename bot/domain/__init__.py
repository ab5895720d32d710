"""The domain: policy packs, rules, cases and approvals. Plain Python, no platform or database code."""
