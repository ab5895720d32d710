"""The kernel: what every feature uses and that imports no feature (see core.Kernel)."""
