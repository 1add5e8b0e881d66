class ActionError(Exception):
    """A refused action, with a message for the person who asked."""
