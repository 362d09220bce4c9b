"""Draft editing for the form builder: pure functions from a FormDefinition to a new one.

Each function takes a definition, never changes it, and returns an edited deep
copy, or raises `InvalidInput` naming the field and saying what to do instead.
The pages save the result with `services.forms.update_draft`, which runs the
full form check; the refusals here are the ones a person editing one element
can act on (a name taken, a reference to a question that does not exist, a
language key without a code).

The functions live in three modules, all importable from here: `elements`
(finding, moving and removing elements; adding a module), `questions` (adding
and changing a question, its choices and expressions) and `languages` (the
form's languages and the translate page's texts).
"""

from incity.surveys.builder.elements import (
    EXPRESSION_FIELDS,
    Direction,
    add_module_group,
    element_named,
    move_element,
    remove_element,
)
from incity.surveys.builder.languages import (
    COMMON_LANGUAGES,
    MAX_LANGUAGE_KEY,
    MAX_TEXT,
    TEXT_FIELDS,
    TranslatableText,
    add_language,
    check_language_key,
    language_key,
    remove_language,
    set_languages,
    set_translation,
    translatable_texts,
)
from incity.surveys.builder.questions import (
    DEFAULT_MARK_LIST,
    LIST_TYPES,
    QuestionSpec,
    add_question,
    parse_choices,
    update_question,
)

__all__ = [
    "COMMON_LANGUAGES",
    "DEFAULT_MARK_LIST",
    "EXPRESSION_FIELDS",
    "LIST_TYPES",
    "MAX_LANGUAGE_KEY",
    "MAX_TEXT",
    "TEXT_FIELDS",
    "Direction",
    "QuestionSpec",
    "TranslatableText",
    "add_language",
    "add_module_group",
    "add_question",
    "check_language_key",
    "element_named",
    "language_key",
    "move_element",
    "parse_choices",
    "remove_element",
    "remove_language",
    "set_languages",
    "set_translation",
    "translatable_texts",
    "update_question",
]
