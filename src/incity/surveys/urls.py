from django.urls import path

from incity.surveys.views import builder, consent, forms, preview, submissions

app_name = "surveys"
urlpatterns = [
    path("projects/<slug:slug>/forms/", forms.form_list, name="forms"),
    path("projects/<slug:slug>/forms/new", forms.form_new, name="form_new"),
    path("projects/<slug:slug>/forms/import", forms.form_import, name="form_import"),
    path("forms/<int:form>/", builder.form_page, name="form"),
    path("forms/<int:form>/questions/new", builder.question_new, name="question_new"),
    path("forms/<int:form>/elements/<str:name>/edit", builder.element_edit, name="element_edit"),
    path("forms/<int:form>/elements/<str:name>/move", builder.element_move, name="element_move"),
    path(
        "forms/<int:form>/elements/<str:name>/remove",
        builder.element_remove,
        name="element_remove",
    ),
    path("forms/<int:form>/modules", builder.module_add, name="module_add"),
    path("forms/<int:form>/languages", builder.language_change, name="languages"),
    path("forms/<int:form>/consent", builder.consent_set, name="consent"),
    path("forms/<int:form>/media", forms.media_upload, name="media_upload"),
    path("forms/<int:form>/publish", builder.publish, name="publish"),
    path("forms/<int:form>/status", builder.status_set, name="status"),
    path("forms/<int:form>/xlsform", builder.xlsform_download, name="xlsform"),
    path("forms/<int:form>/preview", preview.preview, name="preview"),
    path("forms/<int:form>/translate", preview.translate, name="translate"),
    path("forms/<int:form>/submissions/", submissions.submission_list, name="submissions"),
    path("submissions/<int:submission>/", submissions.submission_detail, name="submission"),
    path(
        "submissions/<int:submission>/review",
        submissions.submission_review,
        name="submission_review",
    ),
    path("submissions/<int:submission>/edit", submissions.submission_edit, name="submission_edit"),
    path("withdraw/", consent.withdraw, name="withdraw"),
]
