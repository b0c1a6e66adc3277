"""An offline stand-in for the Telegram Bot API, for the demo and the tests."""
