"""The office staff: who they are, hand-offs to them, curating what the bot could not answer."""
