"""Load one record for a view or stop the request: 404 when it does not exist, 403 when this user may not see it.

The task and instance rules themselves live in the service (``engine/access.py``); these helpers only turn
"missing" and "not yours" into the response every page and API call gives for them.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy.orm import Session

from engine.models import HumanTask, Instance, ProcessModel
from web.auth import me
from web.services import workflow


def load_task_or_abort(task_id: str) -> HumanTask:
    """The task, if the signed-in user may read it. The service's NotFound and Forbidden become 404 and 403
    with their own message (web/setup.py maps engine errors), for pages and the API alike."""
    return workflow().get_task(task_id, me().actor)


def load_instance_or_abort(s: Session, instance_id: str) -> tuple[Instance, ProcessModel]:
    """An instance and the process version it runs; who may open instances is decided by the route's roles."""
    inst = s.get(Instance, instance_id)
    if inst is None:
        abort(404)
    model = s.get(ProcessModel, inst.model_id)
    assert model is not None  # the foreign key guarantees it
    return inst, model
