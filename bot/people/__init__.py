"""The businesses the office serves: their profiles."""
