"""Server-rendered pages, one module per area. incity.urls names the error handlers here."""

# errors first: the guards that the other view modules use render its pages.
from incity.web.views.errors import forbidden, not_found, server_error

__all__ = ["forbidden", "not_found", "server_error"]
