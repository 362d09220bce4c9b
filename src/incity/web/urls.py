from django.urls import path

from incity.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("organisation/switch", views.switch_organisation, name="switch_organisation"),
    path("account/tokens", views.tokens, name="tokens"),
]
