"""Vigie: a forum and watch board for citizen groups who watch surveillance technology."""
