from django.urls import path

from incity.frameworks import views

app_name = "frameworks"
urlpatterns = [
    path("", views.framework_list, name="list"),
    path("crosswalks/<slug:slug>/", views.crosswalk_detail, name="crosswalk"),
    path("<slug:slug>/", views.framework_detail, name="detail"),
]
