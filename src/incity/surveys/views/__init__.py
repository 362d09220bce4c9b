"""The survey engine's pages: forms and the builder, preview, translation, submissions, withdrawal.

Each module is one area; every write goes through `incity.surveys.services`, every
read of a form or submission through `incity.surveys.queries`.
"""
