"""moto's IAM/STS server for lapse's integration tests, plus test-only endpoints.

Runs moto's WSGI app in this process (rather than `moto_server`) so that the
test endpoints under /_lapse/ can reach moto's in-memory model directly: real
IAM offers no API to set when a password or an access key was last used, and
tests of lapse's inactivity rules need exactly that.

    python launcher.py [--port 0] [--exit-on-stdin-eof]

The first line on stdout is `LISTENING 127.0.0.1:PORT` once the socket is
bound. Test endpoints (JSON in, JSON out):

    GET    /_lapse/health                    readiness
    POST   /_lapse/iam/password-last-used    {account_id, user_name, time|null}
    POST   /_lapse/iam/access-key-last-used  {account_id, user_name, access_key_id,
                                              time|null, service, region}
    GET    /_lapse/requests                  {total, by_action, by_account, assumed_roles}
    DELETE /_lapse/requests                  reset the counters
    POST   /_lapse/faults                    {action|null, account_id|null, count,
                                              status, code, message|null}
                                              (status 200: answer success, apply nothing)
    GET    /_lapse/faults                    rules with their remaining counts
    DELETE /_lapse/faults                    drop every rule
    POST   /_lapse/latency                   {ms, action|null}
    POST   /_lapse/iam/seed                  {account_id, users: [{name, created|null,
                                              password_last_used|null, access_keys:
                                              [{last_used|null, service, region}]}],
                                              roles: [{name, trust_policy}]}

Times are ISO 8601 (`2026-09-01T12:00:00Z`). Every other path goes to moto,
including moto's own /moto-api/ (e.g. POST /moto-api/reset).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import parse_qs

import moto
from moto.core.responses import ActionResult, BaseResponse
from moto.iam.models import AccessKeyLastUsed, User, get_account_id_from, iam_backends
from moto.iam.responses import IamResponse
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

# moto keeps one IAM backend per account and partition; lapse only uses `aws`.
PARTITION = "aws"

# Error documents carry the namespace of the service that "failed".
XML_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}

WsgiEnviron = dict[str, Any]
StartResponse = Callable[..., Any]


# --- Patches that bring moto 5.2.5 closer to real IAM ---------------------
#
# Each one fixes a difference lapse's code would otherwise never be tested
# against. Keep them few and small; say in the docstring what real IAM does.


def _paginated_list_users(self: IamResponse) -> ActionResult:
    """ListUsers with real IAM's paging (MaxItems default 100, Marker, IsTruncated).

    moto returns every user in one page and ignores MaxItems and Marker, so a
    caller that drops IsTruncated would pass here and fail on a real account.
    """
    users = list(self.backend.list_users(self._get_param("PathPrefix"), None, None))
    start = int(self._get_param("Marker") or 0)
    end = start + int(self._get_param("MaxItems") or 100)
    result: dict[str, Any] = {"Users": users[start:end], "IsTruncated": end < len(users)}
    if end < len(users):
        result["Marker"] = str(end)
    return ActionResult(result)


_moto_user_to_csv = User.to_csv


def _credential_report_row(self: User) -> str:
    """A credential report row with real IAM's access-key region/service columns.

    moto fills the access_key_N_last_used_date columns from the key's
    `last_used`, but writes `not_supported` in the region and service columns;
    real IAM writes the region and service of that use, or N/A. For a user
    without a password, real IAM's password_last_used is N/A where moto writes
    `not_supported`.
    """
    row = _moto_user_to_csv(self).rstrip("\n")
    # User names may contain commas and moto does not quote them: split from
    # the right, where the 20 columns after `user` and `arn` are fixed.
    name_and_arn, *columns = row.rsplit(",", 20)

    def set_column(index: int, value: str) -> None:
        columns[index - 2] = value  # `index` counts from the `user` column

    if not self.password:
        set_column(4, "N/A")  # password_last_used
    for slot, first_column in ((0, 11), (1, 16)):  # access_key_{1,2}_last_used_region
        key = self.access_keys[slot] if slot < len(self.access_keys) else None
        last_used = key.last_used if key else None
        if isinstance(last_used, AccessKeyLastUsed):
            set_column(first_column, last_used.region or "N/A")
            set_column(first_column + 1, last_used.service or "N/A")
        else:
            set_column(first_column, "N/A")
            set_column(first_column + 1, "N/A")
    return ",".join([name_and_arn, *columns]) + "\n"


IamResponse.list_users = _paginated_list_users  # type: ignore[method-assign]
User.to_csv = _credential_report_row  # type: ignore[method-assign]


# --- Request inspection -----------------------------------------------------


def _parse_time(value: str | None) -> datetime | None:
    """ISO 8601 to the naive-UTC datetime moto stores (as its `utcnow()` does)."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        return parsed
    return parsed.astimezone(timezone.utc).replace(tzinfo=None)


def _read_body(environ: WsgiEnviron) -> bytes:
    """Read the request body and put it back, so moto can read it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _action(environ: WsgiEnviron, body: bytes) -> str:
    """The operation: the Query-protocol `Action` (IAM and STS), from the
    query or form body, or the JSON protocol's `X-Amz-Target` (sso-admin,
    identitystore: `SWBExternalService.ListAccountAssignments`); for S3,
    which has neither, `s3:METHOD` (an object upload is `s3:PUT`)."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    params = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" not in params and _service(environ) == "s3":
        return f"s3:{environ.get('REQUEST_METHOD', '')}"
    if "Action" not in params and environ.get("CONTENT_TYPE", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        params = parse_qs(body.decode("utf-8", errors="replace"))
    return params.get("Action", ["(none)"])[0]


def _assumed_role(environ: WsgiEnviron, body: bytes) -> str | None:
    """The `RoleArn` of an STS AssumeRole request, if it is one."""
    params = parse_qs(environ.get("QUERY_STRING", ""))
    if "RoleArn" not in params:
        params = parse_qs(body.decode("utf-8", errors="replace"))
    return params.get("RoleArn", [None])[0]


def _account(environ: WsgiEnviron) -> str:
    """The account moto will act in, decided the way moto decides it.

    moto maps the signing access key to the account that issued it (an
    assumed-role key belongs to the role's account); unknown keys fall back to
    the default account 123456789012.
    """
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if "HTTP_X_MOTO_ACCOUNT_ID" in environ:
        return environ["HTTP_X_MOTO_ACCOUNT_ID"]
    match = BaseResponse.access_key_regex.search(environ.get("HTTP_AUTHORIZATION", ""))
    return get_account_id_from(match.group("access_key") if match else "AKIAEXAMPLE")


def _service(environ: WsgiEnviron) -> str:
    """The signing service (`iam`, `sts`) from the SigV4 credential scope."""
    try:
        scope = environ["HTTP_AUTHORIZATION"].split(",")[0].split()[1]
        return scope.split("/")[3]
    except (KeyError, IndexError):
        return "iam"


# --- The application ----------------------------------------------------------


class BadRequest(Exception):
    """A malformed call to a test endpoint (answered with 400)."""


class NotFound(Exception):
    """A test endpoint named something moto does not have (answered with 404)."""


class LapseApp:
    """Counts and optionally delays or fails AWS requests, then hands them to moto."""

    def __init__(self, moto_app: DomainDispatcherApplication) -> None:
        self.moto_app = moto_app
        self.lock = threading.Lock()
        self.total = 0
        self.by_action: Counter[str] = Counter()
        self.by_account: dict[str, Counter[str]] = {}
        # AssumeRole calls per role ARN: which roles were assumed, not only how often.
        self.assumed_roles: Counter[str] = Counter()
        # Fault rules, consumed in the order they were added.
        self.faults: list[dict[str, Any]] = []
        # Delay in ms per Action; the key None applies to every request.
        self.latency_ms: dict[str | None, int] = {}

    def __call__(self, environ: WsgiEnviron, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_lapse/"):
            return self.control(environ, start_response)
        if path.startswith("/moto-api"):
            return self.moto_app(environ, start_response)

        body = _read_body(environ)
        action = _action(environ, body)
        account = _account(environ)
        with self.lock:
            self.total += 1
            self.by_action[action] += 1
            self.by_account.setdefault(account, Counter())[action] += 1
            if action == "AssumeRole":
                role = _assumed_role(environ, body)
                if role:
                    self.assumed_roles[role] += 1
            delay_ms = self.latency_ms.get(action, self.latency_ms.get(None, 0))
            fault = self._take_fault(action, account)
        if delay_ms:
            time.sleep(delay_ms / 1000)
        json_protocol = "HTTP_X_AMZ_TARGET" in environ
        if fault and fault["status"] == 200:
            if json_protocol:
                return _json(start_response, 200, {})
            return self._swallowed(start_response, action, _service(environ))
        if fault and json_protocol:
            return self._aws_json_error(start_response, fault)
        if fault:
            return self._aws_error(start_response, fault, _service(environ))
        return self.moto_app(environ, start_response)

    def _take_fault(self, action: str, account: str) -> dict[str, Any] | None:
        """The first rule matching this request, with one use consumed (lock held)."""
        for rule in self.faults:
            if (
                rule["remaining"] > 0
                and rule["action"] in (None, action)
                and rule["account_id"] in (None, account)
            ):
                rule["remaining"] -= 1
                return rule
        return None

    @staticmethod
    def _swallowed(start_response: StartResponse, action: str, service: str) -> Iterable[bytes]:
        """A success answer for a request that was never applied, as a
        misbehaving proxy or a lost write would give (status 200 faults)."""
        request_id = str(uuid.uuid4())
        namespace = XML_NAMESPACES.get(service, XML_NAMESPACES["iam"])
        body = (
            f'<{action}Response xmlns="{namespace}">'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            f"</{action}Response>"
        ).encode()
        start_response(
            "200 OK",
            [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))],
        )
        return [body]

    @staticmethod
    def _aws_error(
        start_response: StartResponse, fault: dict[str, Any], service: str
    ) -> Iterable[bytes]:
        """An error document shaped like IAM's and STS's (Query protocol)."""
        request_id = str(uuid.uuid4())
        kind = "Sender" if fault["status"] < 500 else "Receiver"
        namespace = XML_NAMESPACES.get(service, XML_NAMESPACES["iam"])
        body = (
            f'<ErrorResponse xmlns="{namespace}">'
            f"<Error><Type>{kind}</Type><Code>{_xml_escape(fault['code'])}</Code>"
            f"<Message>{_xml_escape(fault['message'])}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        start_response(
            f"{fault['status']} {fault['code']}",
            [
                ("Content-Type", "text/xml"),
                ("Content-Length", str(len(body))),
                ("x-amzn-RequestId", request_id),
            ],
        )
        return [body]

    @staticmethod
    def _aws_json_error(start_response: StartResponse, fault: dict[str, Any]) -> Iterable[bytes]:
        """An error shaped as JSON-protocol services (sso-admin, identitystore) answer."""
        body = json.dumps({"__type": fault["code"], "message": fault["message"]}).encode()
        start_response(
            f"{fault['status']} {fault['code']}",
            [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("Content-Length", str(len(body))),
                ("x-amzn-RequestId", str(uuid.uuid4())),
                ("x-amzn-ErrorType", fault["code"]),
            ],
        )
        return [body]

    # --- Test endpoints ---------------------------------------------------

    def control(self, environ: WsgiEnviron, start_response: StartResponse) -> Iterable[bytes]:
        route = (environ["REQUEST_METHOD"], environ["PATH_INFO"])
        handlers = {
            ("GET", "/_lapse/health"): self.health,
            ("POST", "/_lapse/iam/password-last-used"): self.set_password_last_used,
            ("POST", "/_lapse/iam/access-key-last-used"): self.set_access_key_last_used,
            ("GET", "/_lapse/requests"): self.request_counts,
            ("DELETE", "/_lapse/requests"): self.reset_request_counts,
            ("POST", "/_lapse/faults"): self.add_fault,
            ("GET", "/_lapse/faults"): self.list_faults,
            ("DELETE", "/_lapse/faults"): self.clear_faults,
            ("POST", "/_lapse/latency"): self.set_latency,
            ("POST", "/_lapse/iam/seed"): self.seed_iam,
        }
        handler = handlers.get(route)
        if handler is None:
            return _json(start_response, 404, {"error": f"no test endpoint {route[0]} {route[1]}"})
        try:
            raw = _read_body(environ)
            payload = json.loads(raw) if raw else {}
            if not isinstance(payload, dict):
                raise BadRequest("the body must be a JSON object")
            return _json(start_response, 200, handler(payload))
        except NotFound as error:
            return _json(start_response, 404, {"error": str(error)})
        except (BadRequest, KeyError, ValueError, TypeError) as error:
            return _json(start_response, 400, {"error": f"{type(error).__name__}: {error}"})

    def health(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"status": "ok", "moto_version": moto.__version__}

    def set_password_last_used(self, payload: dict[str, Any]) -> dict[str, Any]:
        user = _user(payload["account_id"], payload["user_name"])
        user.password_last_used = _parse_time(payload["time"])
        return {}

    def set_access_key_last_used(self, payload: dict[str, Any]) -> dict[str, Any]:
        user = _user(payload["account_id"], payload["user_name"])
        key_id = payload["access_key_id"]
        key = next((k for k in user.access_keys if k.access_key_id == key_id), None)
        if key is None:
            raise NotFound(f"user {user.name} has no access key {key_id}")
        when = _parse_time(payload["time"])
        # Note: moto also overwrites this whenever a request is signed with the key.
        key.last_used = (
            None
            if when is None
            else AccessKeyLastUsed(
                timestamp=when, service=payload["service"], region=payload["region"]
            )
        )
        return {}

    def request_counts(self, _: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return {
                "total": self.total,
                "by_action": dict(self.by_action),
                "by_account": {account: dict(c) for account, c in self.by_account.items()},
                "assumed_roles": dict(self.assumed_roles),
            }

    def reset_request_counts(self, _: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.total = 0
            self.by_action.clear()
            self.by_account.clear()
            self.assumed_roles.clear()
        return {}

    def add_fault(self, payload: dict[str, Any]) -> dict[str, Any]:
        status = int(payload["status"])
        if status != 200 and not 400 <= status <= 599:
            raise BadRequest("status must be 200 (swallow) or an HTTP error status (400-599)")
        rule = {
            "action": payload.get("action"),
            "account_id": payload.get("account_id"),
            "remaining": int(payload.get("count", 1)),
            "status": status,
            "code": str(payload["code"]),
            "message": str(payload.get("message") or f"injected {payload['code']}"),
        }
        with self.lock:
            self.faults.append(rule)
        return {}

    def list_faults(self, _: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return {"faults": [dict(rule) for rule in self.faults]}

    def clear_faults(self, _: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.faults.clear()
        return {}

    def set_latency(self, payload: dict[str, Any]) -> dict[str, Any]:
        ms = int(payload["ms"])
        if ms < 0:
            raise BadRequest("ms must not be negative")
        with self.lock:
            self.latency_ms[payload.get("action")] = ms
        return {}


    def seed_iam(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Creates users (with access keys and last use) and roles in one request.

        Org-scale scenarios hold thousands of users and roles; creating them
        through the AWS API costs several requests each, while this writes
        moto's model directly with the same backend calls its API handlers use.
        """
        backend = iam_backends[payload["account_id"]][PARTITION]
        users = payload.get("users", [])
        roles = payload.get("roles", [])
        for spec in users:
            user = backend.create_user("us-east-1", spec["name"])
            created = _parse_time(spec.get("created"))
            if created is not None:
                user.create_date = created
            if spec.get("password_last_used"):
                user.password = "seeded-Password-1"
                user.password_last_used = _parse_time(spec["password_last_used"])
            for key_spec in spec.get("access_keys", []):
                key = backend.create_access_key(spec["name"])
                when = _parse_time(key_spec.get("last_used"))
                if when is not None:
                    key.last_used = AccessKeyLastUsed(
                        timestamp=when,
                        service=key_spec.get("service", "sts"),
                        region=key_spec.get("region", "eu-west-2"),
                    )
        for spec in roles:
            backend.create_role(
                role_name=spec["name"],
                assume_role_policy_document=json.dumps(spec["trust_policy"]),
                path="/",
                permissions_boundary=None,
                description="",
                tags=[],
                max_session_duration=None,
            )
        return {"users": len(users), "roles": len(roles)}


def _user(account_id: str, user_name: str) -> User:
    users = iam_backends[account_id][PARTITION].users
    if user_name not in users:
        raise NotFound(f"no IAM user {user_name} in account {account_id}")
    return users[user_name]


def _json(start_response: StartResponse, status: int, payload: dict[str, Any]) -> Iterable[bytes]:
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _exit_when_stdin_closes() -> None:
    """Exit once the parent closes our stdin, which it does even when it is killed.

    This is what keeps a test run that dies without cleaning up (SIGKILL,
    panic=abort) from leaving servers behind.
    """
    while sys.stdin.buffer.read(65536):
        pass
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    args = parser.parse_args()

    # One line per request on stderr would bury the output of failing tests.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    app = LapseApp(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        "127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    print(f"LISTENING 127.0.0.1:{server.server_port}", flush=True)
    # Whoever reads the first line may close the pipe; later output goes to stderr.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    if args.exit_on_stdin_eof:
        threading.Thread(target=_exit_when_stdin_closes, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
