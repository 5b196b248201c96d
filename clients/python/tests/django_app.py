"""A small Django project for the tests: views, URL patterns and the settings."""

from __future__ import annotations

import django
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, re_path

from client_support import ListClient

CLIENT = ListClient()


def item(request: HttpRequest, item_id: int) -> HttpResponse:
    if item_id == 0:
        raise Http404("no such item")
    return JsonResponse({"id": item_id})


def org_item(request: HttpRequest, org: str, item_id: int) -> HttpResponse:
    return JsonResponse({"org": org, "id": item_id})


def boom(request: HttpRequest) -> HttpResponse:
    raise ValueError("kaboom")


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def legacy(request: HttpRequest, slug: str) -> HttpResponse:
    return HttpResponse(slug)


async def slow(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async")


urlpatterns = [
    path("items/<int:item_id>/", item),
    path("boom/", boom),
    path("health/", health),
    path("async/", slow),
    path("api/v1/", include([path("orgs/<slug:org>/items/<int:item_id>", org_item)])),
    re_path(r"^legacy/(?P<slug>[a-z]+)/$", legacy),
]


def user_from_header(request: HttpRequest) -> str | None:
    return request.headers.get("X-User")


def configure() -> None:
    """Django settings can be configured once per process: every test module calls this."""
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF=__name__,
            SECRET_KEY="test",
            MIDDLEWARE=["streamgauge_client.django.StreamgaugeMiddleware"],
            STREAMGAUGE={
                "CLIENT": CLIENT,
                "SKIP_PATHS": ["/health/"],
                "USER_ID": f"{__name__}.user_from_header",
                "PROPERTIES": lambda request: {"host": request.get_host()},
            },
        )
        django.setup()
