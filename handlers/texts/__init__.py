"""What businesses and staff read in Telegram, one module per flow: the handlers hold the logic,
these modules the wording (the core's own wording is in bot/qa/wording.py and bot/templates/)."""
