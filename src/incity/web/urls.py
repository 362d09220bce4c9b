from django.urls import path

from incity.web.views import audit, home, members, organisations, projects, tokens

app_name = "web"
urlpatterns = [
    path("", home.home, name="home"),
    path("organisation/switch", home.switch_organisation, name="switch_organisation"),
    path("organisations/<slug:slug>/", organisations.organisation_page, name="organisation"),
    path("organisations/<slug:slug>/audit/", audit.audit_log, name="audit"),
    path("organisations/<slug:slug>/members/", members.members, name="members"),
    path("organisations/<slug:slug>/members/set", members.member_set, name="member_set"),
    path("organisations/<slug:slug>/members/remove", members.member_remove, name="member_remove"),
    path("projects/<slug:slug>/", projects.project_page, name="project"),
    path("projects/<slug:slug>/state", projects.project_state, name="project_state"),
    path("account/tokens", tokens.tokens, name="tokens"),
    path("account/tokens/<int:token_id>/revoke", tokens.token_revoke, name="token_revoke"),
]
