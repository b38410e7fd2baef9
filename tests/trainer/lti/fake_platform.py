"""A simulated LTI 1.3 platform (an LMS) for the tests: real RSA keys, signed id_tokens, and the platform's HTTP
endpoints (JWKS, OAuth2 token, AGS scores, NRPS memberships) answered by one ``handle`` function that two
adapters plug into the tool's HTTP client: the ``responses`` library (in-process) and a loopback HTTP server
(for a Celery worker in another process). Nothing leaves the machine."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from django.test import Client
from jwcrypto.jwk import JWK
from lti_tool.models import LtiDeployment, LtiRegistration

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTRUCTOR = ROLE + "Instructor"
LEARNER = ROLE + "Learner"
TEACHING_ASSISTANT = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]


def new_key(kid: str) -> tuple[JWK, str]:
    key = JWK.generate(kty="RSA", size=2048, kid=kid)
    return key, key.export_to_pem(private_key=True, password=None).decode()


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakePlatform:
    base: str = "https://lms.example.edu"
    client_id: str = "pacs-trainer-client"
    deployment_id: str = "deployment-1"
    kid: str = "platform-key-1"
    tool_jwks: Callable[[], dict[str, Any]] | None = None  # how the platform reads the tool's JWKS
    score_replies: list[int] = field(default_factory=list)  # statuses for the next score posts; then 200
    scores: list[dict[str, Any]] = field(default_factory=list)  # every score post the platform received
    accepted_scores: list[dict[str, Any]] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.key, self.private_pem = new_key(self.kid)
        self.tokens: set[str] = set()

    # ------------------------------------------------------------------------------------------- URLs

    @property
    def issuer(self) -> str:
        return self.base

    @property
    def auth_url(self) -> str:
        return self.base + "/auth"

    @property
    def token_url(self) -> str:
        return self.base + "/oauth2/token"

    @property
    def jwks_url(self) -> str:
        return self.base + "/jwks"

    def lineitem_url(self, n: int = 1) -> str:
        return f"{self.base}/api/lti/courses/C1/line_items/{n}"

    def memberships_url(self, context_id: str = "C1") -> str:
        return f"{self.base}/api/lti/courses/{context_id}/names_and_roles"

    # ------------------------------------------------------------------------------------------- registration

    def register(self, *, active_deployment: bool = True) -> LtiRegistration:
        registration = LtiRegistration.objects.create(
            name="Example LMS", issuer=self.issuer, client_id=self.client_id, auth_url=self.auth_url,
            token_url=self.token_url, keyset_url=self.jwks_url,
        )  # fmt: skip
        LtiDeployment.objects.create(
            registration=registration, deployment_id=self.deployment_id, is_active=active_deployment
        )
        return registration

    # ------------------------------------------------------------------------------------------- id_tokens

    def id_token(
        self, *, nonce: str, sub: str = "lms-user-1", roles: list[str] | None = None, context_id: str = "C1",
        message_type: str = "LtiResourceLinkRequest", resource_link_id: str = "RL1",
        custom: dict[str, str] | None = None, lineitem: str | None = None, nrps: bool = True,
        deep_link_return_url: str | None = None, email: str = "", name: str = "Lena Learner",
        aud: Any = None, exp_in: int = 300, key_pem: str | None = None, kid: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:  # fmt: skip
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": aud if aud is not None else self.client_id, "sub": sub,
            "iat": now - 5, "exp": now + exp_in, "nonce": nonce, "name": name, "email": email,
            LTI + "version": "1.3.0", LTI + "message_type": message_type,
            LTI + "deployment_id": self.deployment_id, LTI + "roles": roles if roles is not None else [LEARNER],
            LTI + "context": {"id": context_id, "label": "PACS-101", "title": "PACS Administration 101",
                              "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]},
            LTI + "target_link_uri": "https://tool.example.org/lti/launch/",
            LTI + "launch_presentation": {"document_target": "iframe", "return_url": self.base + "/courses/1"},
            LTI + "tool_platform": {"guid": "lms-guid-1", "name": "Example LMS", "url": self.base},
        }  # fmt: skip
        if message_type == "LtiResourceLinkRequest":
            claims[LTI + "resource_link"] = {"id": resource_link_id, "title": "Midterm"}
        else:
            claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "deep_link_return_url": deep_link_return_url or self.base + "/deep_links",
                "accept_types": ["ltiResourceLink"], "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": True, "data": "opaque-platform-data",
            }  # fmt: skip
        if custom:
            claims[LTI + "custom"] = custom
        if lineitem or message_type == "LtiResourceLinkRequest":
            ags: dict[str, Any] = {"scope": AGS_SCOPES, "lineitems": f"{self.base}/api/lti/courses/C1/line_items"}
            if lineitem:
                ags["lineitem"] = lineitem
            claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"] = ags
        if nrps:
            claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"] = {
                "context_memberships_url": self.memberships_url(context_id), "service_versions": ["2.0"],
            }  # fmt: skip
        claims.update(extra or {})
        return jwt.encode(claims, key_pem or self.private_pem, algorithm="RS256", headers={"kid": kid or self.kid})

    # ------------------------------------------------------------------------------------------- browser flow

    def login(self, client: Client, registration: LtiRegistration, *, method: str = "get") -> dict[str, str]:
        """Third-party initiated login; returns the auth request the tool redirected the browser to."""
        params = {
            "iss": self.issuer, "login_hint": "hint-123", "target_link_uri": "https://tool.example.org/lti/launch/",
            "lti_message_hint": "msg-456", "client_id": self.client_id, "lti_deployment_id": self.deployment_id,
        }  # fmt: skip
        url = f"/lti/login/{registration.uuid}/"
        response = (client.post if method == "post" else client.get)(url, params, secure=True)
        assert response.status_code == 302, response.content.decode()[:500]
        location = urlsplit(response["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == self.auth_url
        return {k: v[0] for k, v in parse_qs(location.query).items()}

    def launch(self, client: Client, registration: LtiRegistration, **token_args: Any) -> Any:
        """OIDC login, then the platform's form post of a signed id_token to the tool's redirect URI."""
        auth = self.login(client, registration)
        token = self.id_token(nonce=auth["nonce"], **token_args)
        return client.post(
            urlsplit(auth["redirect_uri"]).path, {"id_token": token, "state": auth["state"]}, secure=True
        )

    # ------------------------------------------------------------------------------------------- HTTP endpoints

    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Reply:
        path = urlsplit(url).path
        if method == "GET" and path == "/jwks":
            return Reply(200, {"keys": [json.loads(self.key.export_public())]})
        if method == "POST" and path == "/oauth2/token":
            return self._token(body)
        if not self._authorised(headers):
            return Reply(401, {"error": "no or bad bearer token"})
        if method == "POST" and re.fullmatch(r"/api/lti/courses/\w+/line_items/\d+/scores", path):
            return self._score(url, headers, body)
        if method == "GET" and "/names_and_roles" in path:
            return self._members(url)
        return Reply(404, {"error": f"no route {method} {path}"})

    def _token(self, body: bytes) -> Reply:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        assert form["grant_type"] == "client_credentials"
        assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        assertion = form["client_assertion"]
        kid = jwt.get_unverified_header(assertion)["kid"]
        assert self.tool_jwks is not None
        jwk = next((k for k in self.tool_jwks()["keys"] if k["kid"] == kid), None)
        if jwk is None:
            return Reply(401, {"error": "invalid_client", "error_description": f"unknown kid {kid}"})
        public = JWK(**jwk).export_to_pem().decode()
        claims = jwt.decode(assertion, public, algorithms=["RS256"], audience=self.token_url)
        assert claims["iss"] == claims["sub"] == self.client_id
        token = uuid.uuid4().hex
        with self.lock:
            self.tokens.add(token)
            self.token_requests.append({"scope": form.get("scope", ""), "kid": kid, "claims": claims})
        return Reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    def _authorised(self, headers: dict[str, str]) -> bool:
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self.tokens

    def _score(self, url: str, headers: dict[str, str], body: bytes) -> Reply:
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        assert content_type == "application/vnd.ims.lis.v1.score+json", content_type
        score = json.loads(body)
        score["_url"] = url
        with self.lock:
            self.scores.append(score)
            status = self.score_replies.pop(0) if self.score_replies else 200
            if status == 200:
                self.accepted_scores.append(score)
        return Reply(status, {} if status == 200 else {"error": "busy"})

    def _members(self, url: str) -> Reply:
        query = parse_qs(urlsplit(url).query)
        page = int(query.get("Page", ["1"])[0])  # mixed case on purpose: the tool must keep the URL as given
        start = (page - 1) * self.page_size
        chunk = self.members[start : start + self.page_size]
        headers = {"Content-Type": "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"}
        if start + self.page_size < len(self.members):
            next_url = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}{urlsplit(url).path}?Page={page + 1}&Token=AbC"
            headers["Link"] = f'<{next_url}>; rel="next"'
        return Reply(200, {"id": url, "context": {"id": "C1"}, "members": chunk}, headers)

    # ------------------------------------------------------------------------------------------- adapters

    def mock(self, rsps: Any) -> None:
        """Answer the tool's ``requests`` calls in this process through the ``responses`` library."""

        def callback(request: Any) -> tuple[int, dict[str, str], str]:
            body = request.body or b""
            reply = self.handle(
                request.method, request.url, dict(request.headers), body.encode() if isinstance(body, str) else body
            )
            return reply.status, reply.headers, json.dumps(reply.body)

        for method in ("GET", "POST"):
            rsps.add_callback(method, re.compile(re.escape(self.base) + r"/.*"), callback=callback)

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve the platform on a loopback port (for a worker in another process); yields the base URL."""
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = platform.handle(self.command, platform.base + self.path, dict(self.headers), body)
                data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                for k, v in {"Content-Type": "application/json", **reply.headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _reply

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
