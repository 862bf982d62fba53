"""Local stand-ins for external services, so the bot can run and be tested offline."""
