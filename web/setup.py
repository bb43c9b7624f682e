"""Extensions, security headers, error pages and blueprints."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, jsonify, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError

from engine.errors import DeployError, EngineError, FormError, TaskAlreadyDone
from web.auth import login_manager
from web.i18n import LANGUAGES, compile_catalogs, install_request_gettext

csrf = CSRFProtect()
babel = Babel()

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
       "base-uri 'self'; form-action 'self'")


class SessionInterface(SecureCookieSessionInterface):
    """Session cookies are Secure whenever the request came over HTTPS (or when forced by config)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("FORCE_SECURE_COOKIES") or request.is_secure)


def select_locale() -> str:
    lang = session.get("lang")
    if lang in LANGUAGES:
        return str(lang)
    return "zh"


def init_extensions(app: Flask) -> None:
    compile_catalogs()
    from web.params import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter  # before any route: ids within PostgreSQL's integer
    app.session_interface = SessionInterface()
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    install_request_gettext(app)
    login_manager.init_app(app)

    from web import filters
    from web.assets import init_assets

    filters.register(app)
    init_assets(app)
    _register_request_hooks(app)
    _register_error_handlers(app)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _register_request_hooks(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith(("/tasks", "/api", "/notifications", "/start", "/attachments", "/monitor",
                                    "/resolutions", "/instances", "/meetings", "/admin", "/account")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.before_request
    def remember_start() -> None:
        g.lang = select_locale()

    @app.before_request
    def refuse_nul_bytes() -> Any:
        """No form, query or path of ours carries a NUL byte; PostgreSQL text cannot hold one (it would be a 500
        deep in a query), so such a request is refused here, before anything reads it."""
        texts = [request.path, *request.args.keys(), *(v for _, v in request.args.items(multi=True))]
        # Form bodies of the pages only (CSRFProtect parses them anyway); the API reads its own raw bodies.
        if not _wants_json() and request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
                "application/x-www-form-urlencoded", "multipart/form-data"):
            texts += [*request.form.keys(), *(v for _, v in request.form.items(multi=True))]
        if any("\x00" in t for t in texts):
            message = "请求含有不允许的控制字符（NUL），未作处理。"
            if _wants_json():
                return jsonify(error="bad_request", message=message), 400
            return render_template("error.html", status=400, message=message), 400
        return None


def _register_error_handlers(app: Flask) -> None:
    """Engine errors carry their status (Forbidden 403, NotFound 404, conflicts 409, form errors 422) and a
    message for the user: an HTML page, or JSON under /api."""

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        if _wants_json():
            return jsonify(error="csrf", message="请求缺少有效的安全令牌（CSRF），请刷新页面后重试。"), 400
        return render_template("error.html", status=400, message="页面已过期或请求缺少安全令牌，请刷新页面后重试。"), 400

    @app.errorhandler(EngineError)
    def engine_error(exc: EngineError) -> Any:
        if _wants_json():
            body: dict[str, Any] = {"error": type(exc).__name__, "message": exc.message}
            if isinstance(exc, FormError):
                body["errors"] = exc.errors
            if isinstance(exc, TaskAlreadyDone):
                body.update(completed_by=exc.by, completed_at=exc.at.isoformat() if exc.at else None)
            if isinstance(exc, DeployError):
                body["problems"] = [p.as_dict() for p in exc.problems]
            return jsonify(body), exc.status
        return render_template("error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(OperationalError)
    def database_busy(exc: OperationalError) -> Any:
        """A wait the database cut short (PostgreSQL's lock or statement timeout, SQLite's busy timeout): the
        command was rolled back, nothing changed; the user may simply try again."""
        orig = getattr(exc, "orig", None)
        busy = type(orig).__name__ in ("LockNotAvailable", "QueryCanceled") or "database is locked" in str(orig)
        if not busy:
            app.logger.exception("database error", exc_info=exc)
            return _simple_error(500, "系统出现错误，请稍后再试；您提交的内容未被保存。")(exc)
        message = "系统繁忙，操作等待超时，未作任何修改，请稍后再试。"
        if _wants_json():
            return jsonify(error="busy", message=message), 503
        return render_template("error.html", status=503, message=message), 503

    for status, message in ((403, "您无权访问此页面。"), (404, "页面不存在。"), (405, "不支持此操作。"),
                            (413, "上传的文件过大。"), (500, "系统出现错误，请稍后再试；您提交的内容未被保存。")):
        app.register_error_handler(status, _simple_error(status, message))


def _simple_error(status: int, message: str) -> Any:
    def handler(exc: Exception) -> Any:
        if _wants_json():
            return jsonify(error=status, message=message), status
        return render_template("error.html", status=status, message=message), status

    return handler


def register_blueprints(app: Flask) -> None:
    from web.views.api import bp as api_bp
    from web.views.attachments import bp as attachments_bp
    from web.views.auth import bp as auth_bp
    from web.views.notifications import bp as notifications_bp
    from web.views.start import bp as start_bp
    from web.views.tasks import bp as tasks_bp

    for bp in (auth_bp, tasks_bp, start_bp, notifications_bp, attachments_bp):
        app.register_blueprint(bp)
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    from web.views import designer_decisions  # noqa: F401 - the decision-table routes of the designer blueprint
    from web.views.designer import bp as designer_bp

    app.register_blueprint(designer_bp)
    from web.views import reviews_decisions  # noqa: F401 - the decision tables' review routes
    from web.views.reviews import bp as reviews_bp
    from web.views.tokens import bp as tokens_bp

    app.register_blueprint(reviews_bp)
    app.register_blueprint(tokens_bp)
    _register_monitoring(app)
    _register_administration(app)
    _register_supervision(app)


def _register_monitoring(app: Flask) -> None:
    """The convener's monitoring pages: dashboard, ledger, instances and meetings; the ledger's JSON lives
    under /api (GET only)."""
    from web.views.cases import bp as cases_bp
    from web.views.checks import bp as checks_bp
    from web.views.instances import bp as instances_bp
    from web.views.ledger import api_bp as ledger_api_bp
    from web.views.ledger import bp as ledger_bp
    from web.views.matters import bp as matters_bp
    from web.views.meetings import bp as meetings_bp
    from web.views.monitor import bp as monitor_bp
    from web.views.urgent import bp as urgent_bp

    for bp in (monitor_bp, ledger_bp, instances_bp, meetings_bp, matters_bp, cases_bp, checks_bp,
               ledger_api_bp, urgent_bp):
        app.register_blueprint(bp)
    from web.views.api_lists import bp as api_lists_bp  # the other paged lists of the API (GET only)

    app.register_blueprint(api_lists_bp)


def _register_administration(app: Flask) -> None:
    """People, units, liaisons, roles, the sign-in policy and the audit log (三员分立), and one's own account."""
    from web.views.account import bp as account_bp
    from web.views.admin_people import bp as people_bp
    from web.views.admin_security import bp as security_bp
    from web.views.admin_units import bp as units_bp
    from web.views.admin_units import liaison_bp

    for bp in (account_bp, people_bp, units_bp, liaison_bp, security_bp):
        app.register_blueprint(bp)


def _register_supervision(app: Flask) -> None:
    """督办 beyond the ledger: working days and the 督办 rules (administration), progress rounds, 阶段性落实情况
    报告 and 督办通报 (the issued documents)."""
    from web.views.supervision_docs import bp as docs_bp
    from web.views.workdays import bp as workdays_bp

    for bp in (workdays_bp, docs_bp):
        app.register_blueprint(bp)
