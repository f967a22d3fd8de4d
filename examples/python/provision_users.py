"""Provisions staff accounts the way an integrator's script does, through a client generated
from Staffroom's OpenAPI document by openapi-python-client (package `staffroom_client`).

It logs in, creates 50 non-clinical users with an `Idempotency-Key` each (and retries one
to show the replay), gives each of them two clinics, grants them all a permission in one
bulk update (with one permission their profession may not hold, so the report has a
refusal to read), and deactivates five. Every answer is checked: anything unexpected stops
the script with a message and exit status 1.

    python provision_users.py [--url URL] [--email EMAIL] [--password PASSWORD]

The defaults are a local `staffroom serve --demo`. Each run uses fresh email addresses, so
it can run again against the same site.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import TypeVar

from staffroom_client import AuthenticatedClient, Client
from staffroom_client.api.auth import login
from staffroom_client.api.clinics import list_clinics
from staffroom_client.api.users import (
    bulk_update_users,
    create_user,
    deactivate_user,
    list_users,
    set_user_clinics,
)
from staffroom_client.models import (
    BulkReport,
    BulkUpdateRequest,
    ChangeKind,
    ClinicPage,
    CreateUserRequest,
    LoginRequest,
    Outcome,
    Permission,
    Problem,
    Profession,
    Refusal,
    SetClinicsRequest,
    TokenResponse,
    UserPage,
    UserStatus,
    UserType,
    UserView,
)
from staffroom_client.types import UNSET, Response, Unset

USERS = 50
DEACTIVATED = 5

T = TypeVar("T")


class Unexpected(Exception):
    """An answer that is not what the script expected."""


def expect(response: Response[Problem | T], status: HTTPStatus, kind: type[T], what: str) -> T:
    """The parsed body of `response` when it has `status` and is a `kind`; else `Unexpected`."""
    parsed = response.parsed
    if response.status_code != status or not isinstance(parsed, kind):
        detail = parsed.to_dict() if isinstance(parsed, Problem) else response.content[:500]
        raise Unexpected(f"{what}: expected {status.value}, got {response.status_code}: {detail}")
    return parsed


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Unexpected(message)


def log_in(url: str, email: str, password: str) -> AuthenticatedClient:
    answer = login.sync_detailed(
        client=Client(base_url=url), body=LoginRequest(email=email, password=password)
    )
    token = expect(answer, HTTPStatus.OK, TokenResponse, "login")
    check(token.token_type == "Bearer", f"token type {token.token_type!r}")
    # None only in a replay of a login sent with an Idempotency-Key; this one sends none.
    check(isinstance(token.access_token, str), "the login answered no token")
    return AuthenticatedClient(
        base_url=url, token=str(token.access_token), raise_on_unexpected_status=True
    )


def every_page(fetch: Callable[[str | Unset], UserPage | ClinicPage]) -> list:
    """All items of a list, following `next_cursor` until the last page."""
    items: list = []
    cursor: str | Unset = UNSET
    while True:
        page = fetch(cursor)
        items.extend(page.items)
        if not isinstance(page.next_cursor, str):
            return items
        cursor = page.next_cursor


def create_users(api: AuthenticatedClient, run: str) -> list[UserView]:
    """Creates the users, each with its own `Idempotency-Key`, and retries the first one."""
    created = []
    requests = []
    for n in range(1, USERS + 1):
        body = CreateUserRequest(
            first_name="Provisioned",
            last_name=f"User {n:02}",
            email=f"provisioned-{run}-{n:02}@example.com",
            user_type=UserType.NON_CLINICAL,
            profession=Profession.CLERICAL,
        )
        key = f"provision-{run}-{n:02}"
        answer = create_user.sync_detailed(client=api, body=body, idempotency_key=key)
        user = expect(answer, HTTPStatus.CREATED, UserView, f"create user {n}")
        check(user.email == body.email, f"user {n} has email {user.email}")
        check(user.status == UserStatus.ACTIVE, f"user {n} is {user.status}")
        check(not user.has_password, f"user {n} has a password before accepting an invitation")
        created.append(user)
        requests.append((key, body))

    # A script that lost an answer sends the request again with the same key: it gets the
    # first answer back instead of a second user (or a 409 for the email).
    key, body = requests[0]
    replay = create_user.sync_detailed(client=api, body=body, idempotency_key=key)
    again = expect(replay, HTTPStatus.CREATED, UserView, "retried create")
    check(again.id == created[0].id, "the retry created another user")
    check(replay.headers.get("Idempotent-Replayed") == "true", "the retry was not a replay")
    return created


def set_clinics(
    api: AuthenticatedClient, users: list[UserView], home: uuid.UUID, second: uuid.UUID
) -> None:
    for user in users:
        answer = set_user_clinics.sync_detailed(
            user.id,
            client=api,
            body=SetClinicsRequest(clinic_ids=[home, second], default_clinic_id=home),
        )
        updated = expect(answer, HTTPStatus.OK, UserView, f"set clinics of {user.email}")
        check(set(updated.clinic_ids) == {home, second}, f"{user.email} has {updated.clinic_ids}")
        check(
            updated.default_clinic_id == home, f"{user.email} default {updated.default_clinic_id}"
        )


def grant_in_bulk(api: AuthenticatedClient, users: list[UserView]) -> BulkReport:
    """Grants `manage_schedule` to every user and asks for `start_soap_notes` too, which
    clerical users may not hold: the bulk update applies the first and reports the second."""
    ids = [user.id for user in users]
    answer = bulk_update_users.sync_detailed(
        client=api,
        body=BulkUpdateRequest(
            user_ids=ids,
            add_permissions=[Permission.MANAGE_SCHEDULE, Permission.START_SOAP_NOTES],
        ),
    )
    report = expect(answer, HTTPStatus.OK, BulkReport, "bulk update")
    check(not report.dry_run, "the bulk update was a dry run")
    check(report.outcome == Outcome.PARTIAL, f"outcome {report.outcome}")
    check(report.selected == USERS, f"selected {report.selected}")
    check(report.users_updated == USERS, f"users updated {report.users_updated}")
    check(report.permissions.applied == USERS, f"permissions applied {report.permissions.applied}")
    check(report.permissions.refused == USERS, f"permissions refused {report.permissions.refused}")
    check(len(report.refusals) == 1, f"refusals {[r.to_dict() for r in report.refusals]}")
    refusal = report.refusals[0]
    check(refusal.reason == Refusal.SOAP_NOT_ALLOWED_FOR_PROFESSION, f"reason {refusal.reason}")
    check(refusal.kind == ChangeKind.PERMISSION, f"kind {refusal.kind}")
    check(refusal.count == USERS and set(refusal.user_ids) == set(ids), "refused users")
    return report


def deactivate(api: AuthenticatedClient, users: list[UserView], run: str) -> None:
    for user in users:
        answer = deactivate_user.sync_detailed(
            user.id, client=api, idempotency_key=f"deactivate-{run}-{user.id}"
        )
        done = expect(answer, HTTPStatus.OK, UserView, f"deactivate {user.email}")
        check(done.status == UserStatus.INACTIVE, f"{user.email} is {done.status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--email", default="admin@demo.staffroom.test")
    parser.add_argument("--password", default="staffroom-demo")
    args = parser.parse_args()
    run = uuid.uuid4().hex[:8]

    api = log_in(args.url, args.email, args.password)
    clinics = every_page(
        lambda cursor: expect(
            list_clinics.sync_detailed(client=api, cursor=cursor),
            HTTPStatus.OK,
            ClinicPage,
            "clinics",
        )
    )
    check(len(clinics) >= 2, f"the site has {len(clinics)} clinic(s); two are needed")
    home, second = clinics[0].id, clinics[1].id

    users = create_users(api, run)
    print(f"created {len(users)} users (run {run}); a retried create was replayed")
    set_clinics(api, users, home, second)
    print(f"gave each of them clinics {clinics[0].name} (default) and {clinics[1].name}")
    report = grant_in_bulk(api, users)
    print(
        f"bulk update: {report.outcome}, {report.permissions.applied} permissions applied, "
        f"{report.permissions.refused} refused ({report.refusals[0].reason})"
    )
    deactivate(api, users[:DEACTIVATED], run)

    inactive = every_page(
        lambda cursor: expect(
            list_users.sync_detailed(
                client=api,
                status=UserStatus.INACTIVE,
                q=f"provisioned-{run}",
                limit=2,
                cursor=cursor,
            ),
            HTTPStatus.OK,
            UserPage,
            "inactive users",
        )
    )
    check(
        {user.id for user in inactive} == {user.id for user in users[:DEACTIVATED]},
        f"inactive users of this run: {[user.email for user in inactive]}",
    )
    print(f"deactivated {DEACTIVATED}; the list of inactive users shows exactly them")


if __name__ == "__main__":
    try:
        main()
    except Unexpected as error:
        sys.exit(f"provisioning failed: {error}")
