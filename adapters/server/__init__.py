"""The OpenAI-compatible HTTP proxy (``guard serve``): ``create_app(guard, config)``."""
