"""The call-flow engine's view of the database for one call: what ``tools/flow/runtime.py``
asks through its ``CallContext`` protocol, answered from Odoo records. Not a model:
``telephony.call._flow_context()`` builds one per webhook."""
import time
from urllib.parse import urlencode

from .. import const
from ..tools import speech


class FlowContext:
    """The flow engine's view of the Odoo database for one call (``tools.flow.runtime.CallContext``).

    Routing states are read once per webhook for the whole company (two queries, U3), with the
    softphone identities that a ``<Dial>`` rings.
    """

    def __init__(self, call, account=None):
        self.call = call
        self.env = call.env
        self.account = (account or call.env['telephony.account']._get_for_company(
            call.company_id)).sudo()
        self._statuses = None

    def url(self, action, **params):
        return self._url(const.FLOW_ROUTE + action, params)

    def _url(self, route, params):
        query = urlencode(sorted((key, str(value)) for key, value in params.items()))
        return self.account._webhook_url(route) + ('?' + query if query else '')

    def user_status(self, user_id):
        if self._statuses is None:
            self._statuses = self.env['telephony.user'].sudo().search_fetch(
                [('company_id', '=', self.call.company_id.id)],
                ['availability', 'user_id', 'client_identity', 'user_active'])._get_routing_states()
        return self._statuses.get(user_id, 'offline')

    def client_identity(self, user_id):
        return self.env['telephony.user'].sudo().browse(user_id).client_identity

    def group_members(self, group_id):
        group = self.env['telephony.group'].sudo().browse(group_id).exists()
        if not group or group.company_id != self.call.company_id:
            return []
        return group._members_in_sign_in_order().ids

    def queue_name(self, kind, record_id):
        return self.call._queue_name(kind, record_id)

    def queue_size(self, queue_name):
        return self.call.search_count([('queue_name', '=', queue_name)])

    def audio_url(self, message):
        """A signed URL of the audio, valid a day, if it is still an audio file uploaded to this
        call's flow (checked again now: it may have been changed since publication)."""
        try:
            attachment_id = int(message.get('attachment_id') or 0)
        except (TypeError, ValueError):
            return None
        version = self.call.flow_version_id
        if not version or attachment_id not in version.flow_id._playable_attachment_ids():
            return None
        return self.account._webhook_url(version._audio_path(attachment_id))

    def time_limit(self):
        return self.call.time_limit or None

    def recording_callback_url(self):
        return self.account._webhook_url(const.RECORDING_ROUTE)

    def client_status_callback_url(self, user_id):
        return self._url(const.CLIENT_STATUS_ROUTE, {'user': user_id})

    def transcription_callback_url(self):
        return self.account._webhook_url(const.TRANSCRIPTION_ROUTE)

    def is_open(self, calendar_id):
        calendar = self.env['resource.calendar'].sudo().browse(int(calendar_id or 0)).exists()
        if not calendar or (calendar.company_id and calendar.company_id != self.call.company_id):
            # Validation refuses another company's calendar; a deleted one means closed.
            return False
        return calendar._telephony_is_open()

    def client_parameters(self):
        return self.call._client_parameters()

    def now(self):
        return time.time()

    def language(self, requested=None):
        if requested and speech.odoo_lang(requested, self._installed_languages()):
            return speech.ALIASES.get(requested, requested)
        return speech.say_language(self.call.company_id.partner_id.lang)

    def translate(self, text, language):
        lang = speech.odoo_lang(language, self._installed_languages()) or 'en_US'
        return self.env(context=dict(self.env.context, lang=lang))._(text)

    def _installed_languages(self):
        return [code for code, _name in self.env['res.lang'].get_installed()]
