"""Questions and answers: reading a question, finding the entry that answers it, the
conversation."""
