"""A minimal OpenID Connect provider for browser tests (authorization code flow with PKCE).

Not for production: it signs in whoever types an e-mail address into its form. It serves
discovery, an authorize form, the token endpoint (id tokens signed RS256 with joserfc, which
comes with Authlib), the JWKS and userinfo, on 127.0.0.1 in a background thread.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey


class Provider:
    def __init__(self, client_id: str, client_secret: str, unverified=()) -> None:
        self.client_id = client_id
        self.unverified = {e.lower() for e in unverified}  # get ``email_verified: false``
        self.client_secret = client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        self.codes: dict[str, dict] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Provider:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def _metadata(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile"],
        }

    def _token(self, form: dict, auth_header: str | None) -> tuple[int, dict]:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if auth_header and auth_header.startswith("Basic "):
            client_id, secret = base64.b64decode(auth_header[6:]).decode().split(":", 1)
        if client_id != self.client_id or secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        if grant.get("code_challenge"):
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["code_challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": grant["email"],
            "aud": self.client_id,
            "iat": now,
            "exp": now + 600,
            "email": grant["email"],
            "email_verified": grant["email"] not in self.unverified,
            "name": grant["email"].split("@")[0],
        }
        if grant.get("nonce"):
            claims["nonce"] = grant["nonce"]
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)
        return 200, {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 600,
            "id_token": id_token,
            "scope": "openid email profile",
        }

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return

            def _send(self, status: int, body: bytes, ctype: str, headers=None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, data: dict) -> None:
                self._send(status, json.dumps(data).encode(), "application/json")

            def do_GET(self) -> None:
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._json(200, provider._metadata())
                elif url.path == "/jwks":
                    self._json(200, {"keys": [provider.key.as_dict(private=False)]})
                elif url.path == "/authorize":
                    hidden = "".join(
                        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                        for k, v in q.items()
                    )
                    page = (
                        "<html><body><h1>Test identity provider</h1><form method=post "
                        f'action="/authorize">{hidden}<label>E-mail <input name=email '
                        "id=email></label><button type=submit>Continue</button></form>"
                        "</body></html>"
                    )
                    self._send(200, page.encode(), "text/html")
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                path = urlparse(self.path).path
                if path == "/authorize":
                    if form.get("client_id") != provider.client_id:
                        self._json(400, {"error": "unauthorized_client"})
                        return
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {
                        "email": form.get("email", "").strip().lower(),
                        "nonce": form.get("nonce"),
                        "redirect_uri": form.get("redirect_uri"),
                        "code_challenge": form.get("code_challenge"),
                    }
                    target = (
                        form["redirect_uri"]
                        + "?"
                        + urlencode({"code": code, "state": form.get("state", "")})
                    )
                    self._send(302, b"", "text/plain", {"Location": target})
                elif path == "/token":
                    status, data = provider._token(form, self.headers.get("Authorization"))
                    self._json(status, data)
                else:
                    self._json(404, {"error": "not found"})

        return Handler
