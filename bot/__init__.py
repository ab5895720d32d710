"""schoolbot: a school's social-media policy, put into practice in chat."""

__version__ = "0.1.0"
