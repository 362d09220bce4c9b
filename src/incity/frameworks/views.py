from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def framework_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {})
