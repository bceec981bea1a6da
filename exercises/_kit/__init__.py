"""The kit's helpers for the visible checks. Not a student file: you never need to edit it."""
