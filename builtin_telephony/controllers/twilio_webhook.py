"""What every route Twilio calls has in common: it is a public POST without CSRF token or
session, and it is answered only once ``X-Twilio-Signature`` proves that Twilio sent it with the
auth token of one of our accounts (403 and nothing written otherwise, P1)."""
import functools
import logging

from twilio.request_validator import RequestValidator
from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)


def verified_account(params):
    """The account (sudo, in its company) whose auth token signed the current request; 403
    otherwise.

    The signature covers the URL Twilio requested, i.e. the account's public webhook URL plus
    the path and query string, and every POST parameter.

    The account is found and read in one query (its auth token and webhook URL check the
    signature; the webhooks read its other columns). It comes in the environment of its company
    (``allowed_company_ids``): what a webhook creates belongs there, and Odoo's defaults of new
    records read the company from the context instead of from the public user (P3).
    """
    account_sid = params.get('AccountSid')
    Account = request.env['telephony.account'].sudo()
    account = account_sid and Account.search_fetch(
        [('twilio_account_sid', '=', account_sid)], _prefetched_columns(Account), limit=1)
    if not account:
        _logger.warning("Twilio webhook %s refused: unknown AccountSid", request.httprequest.path)
        raise Forbidden()
    account = account.with_company(account.company_id)
    query = request.httprequest.query_string.decode()
    url = account._webhook_url(request.httprequest.path) + (f'?{query}' if query else '')
    signature = request.httprequest.headers.get('X-Twilio-Signature', '')
    if not RequestValidator(account.twilio_auth_token).validate(url, params, signature):
        _logger.warning("Twilio webhook %s refused: bad signature for %s", request.httprequest.path, url)
        raise Forbidden()
    return account


def _prefetched_columns(model):
    """The fields Odoo reads together when one of them is first read (the default prefetch
    group), as :meth:`~odoo.models.BaseModel._fetch_field` would."""
    return [name for name, field in model._fields.items()
            if field.store and field.prefetch is True and field.is_accessible(model.env)]


def twilio_route(route):
    """``@http.route`` for a route Twilio calls; the handler receives the verified account.

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
            # Only the form body is signed: query-string parameters are part of the URL.
            form = request.httprequest.form.to_dict()
            account = verified_account(form)
            return handler(self, account, **params)
        return endpoint
    return decorator


def twiml_response(twiml):
    """An HTTP response carrying TwiML (a ``VoiceResponse`` or its string)."""
    return request.make_response(str(twiml), headers=[('Content-Type', 'text/xml; charset=utf-8')])


def empty_response():
    """Twilio's status callbacks expect no body."""
    return request.make_response('', status=204)
