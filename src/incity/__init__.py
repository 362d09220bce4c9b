"""incity: evidence, plans and peer learning for inclusive cities."""

__version__ = "0.1.0"
