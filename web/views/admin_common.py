"""What the administration pages share: who may open them (no bypass for the operations role ``admin``: the
three administrators' duties stay separate), the operator of a change, and form errors shown on the page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, request
from flask_login import current_user

from meeting import people
from meeting.roles import AUDITOR, SECADMIN, SYSADMIN
from web.auth import login_manager, me

# Who reads the people and unit pages; who changes what.
PEOPLE_READERS = (SYSADMIN, SECADMIN, AUDITOR)
UNIT_READERS = (SYSADMIN, SECADMIN, AUDITOR, "office")
LIAISON_KEEPERS = ("office", SYSADMIN)
POLICY_READERS = (SECADMIN, SYSADMIN, AUDITOR)


def duty_required(*groups: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only people holding one of ``groups``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not me().has(*groups):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def operator() -> people.Operator:
    user = me()
    return people.Operator(user.username, user.groups)


def form_dict(*names: str) -> dict[str, str]:
    return {n: request.form.get(n, "") for n in names}


def page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= 10_000 else 1
