"""The seam between the tool and its LTI libraries: django-lti (``lti_tool``: registrations, deployments, keys,
contexts, launch sync) and pylti1p3 (id_token validation, OIDC login, deep-link JWTs, service calls). Everything
that talks to a platform over HTTP goes through ``http_session`` (a requests session with a timeout)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from lti_tool.models import LtiLaunch, LtiRegistration
from lti_tool.utils import DjangoToolConfig
from pylti1p3.contrib.django.launch_data_storage.cache import DjangoCacheDataStorage
from pylti1p3.contrib.django.message_launch import DjangoMessageLaunch
from pylti1p3.contrib.django.oidc_login import DjangoOIDCLogin
from pylti1p3.service_connector import ServiceConnector

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = CLAIM + "message_type"
CUSTOM = CLAIM + "custom"
CONTEXT = CLAIM + "context"
ROLES = CLAIM + "roles"
RESOURCE_LINK = CLAIM + "resource_link"
LAUNCH_PRESENTATION = CLAIM + "launch_presentation"
TOOL_PLATFORM = CLAIM + "tool_platform"
DEPLOYMENT_ID = CLAIM + "deployment_id"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
AGS_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
AGS_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
AGS_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
NRPS_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


class TimeoutSession(requests.Session):
    """pylti1p3 calls ``requests`` without a timeout; a platform that never answers must not hold a worker."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", settings.LTI_HTTP_TIMEOUT_SECONDS)
        return super().request(method, url, *args, **kwargs)


def http_session() -> requests.Session:
    session = TimeoutSession()
    session.headers["User-Agent"] = "PACS-Trainer-LTI/1"
    return session


class ToolConfig(DjangoToolConfig):  # type: ignore[misc]
    """django-lti's tool configuration; ``client_id`` is optional in an OIDC login request (LTI 1.3 §5.1.1),
    so with the registration's UUID in the login URL a missing client id still finds the registration."""

    def find_registration_by_params(self, iss: str, client_id: str | None, *args: Any, **kwargs: Any) -> Any:
        if client_id is None and self.registration_uuid is not None:
            try:
                self.registration = LtiRegistration.objects.active().get(uuid=self.registration_uuid, issuer=iss)
            except LtiRegistration.DoesNotExist:
                return None
            return self.registration.to_registration()
        return super().find_registration_by_params(iss, client_id, *args, **kwargs)


def oidc_login_redirect(request: HttpRequest, *, registration_uuid: str, launch_url: str) -> HttpResponse:
    """Answer a third-party initiated login with the redirect to the platform's auth endpoint (state cookie and
    nonce stored by pylti1p3). No JavaScript cookie check: the CSP allows no inline script."""
    login = DjangoOIDCLogin(  # type: ignore[no-untyped-call]
        request,
        ToolConfig(registration_uuid),
        launch_data_storage=DjangoCacheDataStorage(),  # type: ignore[no-untyped-call]
    )
    response: HttpResponse = login.redirect(launch_url)
    return response


def launch_validate(request: HttpRequest) -> LtiLaunch:
    """Validate the id_token POSTed by the platform: state, nonce issued by us, registration by iss + aud,
    signature with the platform's JWKS, exp/iat, deployment, message claims. Raises ``LtiException``."""
    storage = DjangoCacheDataStorage()  # type: ignore[no-untyped-call]
    message_launch = DjangoMessageLaunch(  # type: ignore[no-untyped-call]
        request, ToolConfig(), launch_data_storage=storage, requests_session=http_session()
    )
    message_launch.validate()
    return LtiLaunch(message_launch)


def service_connector(registration: LtiRegistration) -> ServiceConnector:
    """OAuth2 client-credentials access to the platform's services, with a JWT bearer assertion signed by the
    tool's current key (pylti1p3 builds and signs the assertion)."""
    return ServiceConnector(registration.to_registration(), requests_session=http_session())


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or None: safe to put in a CSP source list."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    host = parts.hostname
    if not all(c.isalnum() or c in ".-" for c in host):
        return None
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"
