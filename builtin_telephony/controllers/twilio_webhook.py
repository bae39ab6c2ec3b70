"""What every route Twilio calls has in common: it is a public POST without CSRF token or
session, and it is answered only once ``X-Twilio-Signature`` proves that Twilio sent it with the
auth token of one of our accounts (403 and nothing written otherwise, SPEC P1)."""
import functools
import logging

from twilio.request_validator import RequestValidator
from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)


def verified_account(params):
    """The account (sudo) whose auth token signed the current request; 403 otherwise.

    The signature covers the URL Twilio requested, i.e. the account's public webhook URL plus
    the path and query string, and every POST parameter.
    """
    account_sid = params.get('AccountSid')
    account = account_sid and request.env['telephony.account'].sudo().search(
        [('twilio_account_sid', '=', account_sid)], limit=1)
    if not account:
        _logger.warning("Twilio webhook %s refused: unknown AccountSid", request.httprequest.path)
        raise Forbidden()
    query = request.httprequest.query_string.decode()
    url = account._webhook_url(request.httprequest.path) + (f'?{query}' if query else '')
    signature = request.httprequest.headers.get('X-Twilio-Signature', '')
    if not RequestValidator(account.twilio_auth_token).validate(url, params, signature):
        _logger.warning("Twilio webhook %s refused: bad signature for %s", request.httprequest.path, url)
        raise Forbidden()
    return account


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
