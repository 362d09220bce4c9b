from tests.fieldwork.fixtures import field

__all__ = ["field"]
