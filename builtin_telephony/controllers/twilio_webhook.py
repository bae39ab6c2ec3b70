"""What every route Twilio calls has in common: it is a public POST without CSRF token or
session, and it is answered only once ``X-Twilio-Signature`` proves that Twilio sent it with the
auth token of one of our accounts (403 and nothing written otherwise, P1)."""
import functools
import logging
import time

from twilio.request_validator import RequestValidator
from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from ..tools.flow import runtime

_logger = logging.getLogger(__name__)


def verified_account(params):
    """The account (sudo, in its company) whose auth token signed the current request; 403
    otherwise.

    The signature covers the URL Twilio requested, i.e. the account's public webhook URL plus
    the path and query string, and every POST parameter.

    Several accounts may carry the same ``AccountSid``: the companies of one database commonly
    share one Twilio account (and an administrator may copy another company's SID). The request
    then belongs to the account that owns the call, the called number, the softphone user or
    the caller ID being verified (:meth:`telephony.account._route_webhook`), and only that
    account's auth token may sign it. An account without an auth token signs nothing.

    The account is found and read in one query (its auth token and webhook URL check the
    signature; the webhooks read its other columns). It comes in the environment of its company
    (``allowed_company_ids``): what a webhook creates belongs there, and Odoo's defaults of new
    records read the company from the context instead of from the public user (P3).
    """
    account_sid = params.get('AccountSid')
    Account = request.env['telephony.account'].sudo()
    accounts = account_sid and Account.search_fetch(
        [('twilio_account_sid', '=', account_sid)], _prefetched_columns(Account))
    account = accounts and (accounts if len(accounts) == 1 else Account._route_webhook(accounts, params))
    if not account:
        _logger.warning("Twilio webhook %s refused: unknown AccountSid, or no account of it owns "
                        "the call", request.httprequest.path)
        raise Forbidden()
    account = account.with_company(account.company_id)
    query = request.httprequest.query_string.decode()
    url = account._webhook_url(request.httprequest.path) + (f'?{query}' if query else '')
    signature = request.httprequest.headers.get('X-Twilio-Signature', '')
    token = account.twilio_auth_token
    if not token or not signature or not RequestValidator(token).validate(url, params, signature):
        _logger.warning("Twilio webhook %s refused: bad signature for %s", request.httprequest.path, url)
        raise Forbidden()
    return account


def _prefetched_columns(model):
    """The fields Odoo reads together when one of them is first read (the default prefetch
    group), as :meth:`~odoo.models.BaseModel._fetch_field` would."""
    return [name for name, field in model._fields.items()
            if field.store and field.prefetch is True and field.is_accessible(model.env)]


# Twilio waits 15 s for an answer. Odoo retries a request that meets a concurrent update up to
# five times, sleeping up to 2, 4, 8 and 16 s in between: past this budget, or at the third
# attempt, the webhook answers now rather than let Twilio give up (or get a 500).
RETRY_BUDGET_SECONDS = 5
RETRY_MAX_ATTEMPTS = 3


def twilio_route(route, answers_twiml=True):
    """``@http.route`` for a route Twilio calls; the handler receives the verified account.

    A database conflict that outlasts the retry budget is answered, never raised: an apology
    (TwiML routes) or an empty answer (callbacks), logged.

    Usage::

        @twilio_route('/telephony/twilio/status')
        def twilio_status(self, account, **params):
            ...
    """
    def decorator(handler):
        @http.route(route, type='http', auth='public', methods=['POST'], csrf=False,
                    save_session=False)
        @functools.wraps(handler)
        def endpoint(self, **params):
            # Odoo calls this again on each retry of the same request.
            attempts = getattr(request, '_telephony_attempts', 0) + 1
            started = getattr(request, '_telephony_started', None) or time.monotonic()
            request._telephony_attempts, request._telephony_started = attempts, started
            # Only the form body is signed: query-string parameters are part of the URL.
            form = request.httprequest.form.to_dict()
            account = verified_account(form)
            try:
                return handler(self, account, **params)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                if attempts < RETRY_MAX_ATTEMPTS and time.monotonic() - started < RETRY_BUDGET_SECONDS:
                    raise  # Odoo retries the request
                request.env.cr.rollback()
                _logger.error("Twilio webhook %s for call %s: still conflicting after %s attempts "
                              "(%.1f s); answered without it", request.httprequest.path,
                              form.get('CallSid'), attempts, time.monotonic() - started)
                return twiml_response(runtime.apology_twiml()) if answers_twiml else empty_response()
        return endpoint
    return decorator


def twiml_response(twiml):
    """An HTTP response carrying TwiML (a ``VoiceResponse`` or its string)."""
    return request.make_response(str(twiml), headers=[('Content-Type', 'text/xml; charset=utf-8')])


def empty_response():
    """Twilio's status callbacks expect no body."""
    return request.make_response('', status=204)
