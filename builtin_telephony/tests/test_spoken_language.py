"""What callers hear is in their language: the add-on's own words (goodbye, invalid option,
voicemail thanks, apology, refusals) follow the language of the state's message, else the
company's (the softphone user's for refusals of outgoing calls), read by a voice that speaks it.

Calls are driven through the signed webhooks by tests/twilio_driver.py, which refuses a
``<Say>`` whose voice does not speak its language, as Twilio does.
"""
from unittest.mock import patch

from odoo.tests import BaseCase, HttpCase, new_test_user, tagged

from ..tools import speech
from ..tools.flow import runtime
from .common import FlowCase
from .twilio_driver import TwilioDriver

CALLER = '+14155550199'
ZH_INVALID = ('抱歉，该选项无效。', 'cmn-CN', 'Polly.Zhiyu')
ZH_GOODBYE = ('感谢您的来电。再见。', 'cmn-CN', 'Polly.Zhiyu')


class TestSpeech(BaseCase):

    def test_say_language_of_odoo_languages(self):
        self.assertEqual(speech.say_language('es_ES'), 'es-ES')
        self.assertEqual(speech.say_language('es_MX'), 'es-MX')
        self.assertEqual(speech.say_language('es_AR'), 'es-MX')
        self.assertEqual(speech.say_language('zh_CN'), 'cmn-CN')
        self.assertEqual(speech.say_language('en_US'), 'en-US')
        self.assertEqual(speech.say_language(False), 'en-US')

    def test_odoo_language_among_the_installed_ones(self):
        installed = ['en_US', 'es_ES', 'zh_CN']
        self.assertEqual(speech.odoo_lang('es-ES', installed), 'es_ES')
        self.assertEqual(speech.odoo_lang('es-MX', installed), 'es_ES')   # es.po serves both
        self.assertEqual(speech.odoo_lang('zh-CN', installed), 'zh_CN')
        self.assertEqual(speech.odoo_lang('cmn-CN', installed), 'zh_CN')
        self.assertEqual(speech.odoo_lang('en-GB', installed), 'en_US')
        self.assertIsNone(speech.odoo_lang('fr-FR', installed))

    def test_voices(self):
        self.assertEqual(speech.say_attributes('es-MX'), {'language': 'es-MX', 'voice': 'Polly.Mia'})
        self.assertEqual(speech.say_attributes('zh-CN'),
                         {'language': 'cmn-CN', 'voice': 'Polly.Zhiyu'})
        self.assertEqual(speech.say_attributes('es-ES', 'Polly.Enrique'),
                         {'language': 'es-ES', 'voice': 'Polly.Enrique'})
        self.assertEqual(speech.say_attributes('en-GB'), {'language': 'en-GB'})
        self.assertEqual(speech.say_attributes(None, 'Polly.Amy'), {'voice': 'Polly.Amy'})
        self.assertEqual(speech.prompt_attributes('en-US'), {})
        self.assertEqual(speech.prompt_attributes('es-ES'),
                         {'language': 'es-ES', 'voice': 'Polly.Lucia'})


def language_flow(menu_message, voicemail_message):
    """Menu (1 → voicemail, no connection on timeout) and a voicemail ending the call."""
    return {
        'start': 'menu',
        'states': {
            'menu': {'type': 'ivr', 'name': 'Menu', 'message': menu_message, 'next': {'1': 'vm'}},
            'vm': {'type': 'voicemail', 'name': 'Voicemail', 'message': voicemail_message,
                   'timeout': 5, 'max_length': 60, 'next': {}},
        },
    }


@tagged('post_install', '-at_install')
class TestSpokenLanguage(HttpCase, FlowCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ('es_ES', 'zh_CN'):
            cls.env['res.lang']._activate_lang(code)
        cls.account.webhook_base_url = cls.base_url()
        cls.account.add_credits(100, 'test-spoken-language')
        cls.number = cls._number('+14155550100')

    def setUp(self):
        super().setUp()
        self.driver = TwilioDriver(self, self.account)

    def publish(self, definition):
        flow = self._flow(definition, name='Languages', number_ids=[(6, 0, self.number.ids)])
        flow.action_publish()
        return flow

    def call_in(self):
        return self.driver.incoming_call(CALLER, self.number.phone_number)

    def set_company_lang(self, lang):
        self.company.partner_id.lang = lang

    def test_company_language_when_the_state_has_none(self):
        self.set_company_lang('zh_CN')
        self.publish(language_flow({'kind': 'url', 'url': 'https://example.com/menu.wav'},
                                   {'kind': 'text', 'text': '请在提示音后留言。'}))
        call = self.call_in()
        call.press('7')
        self.assertEqual(call.voices[-1], ZH_INVALID)
        call.stay_silent()
        # No connection on timeout: the add-on ends the call politely, in Chinese.
        self.assertEqual(call.voices[-1], ZH_GOODBYE)
        self.assertTrue(call.ended)

    def test_administrators_text_without_language_is_read_in_the_company_language(self):
        self.set_company_lang('zh_CN')
        self.publish(language_flow({'kind': 'text', 'text': '销售请按 1。'},
                                   {'kind': 'text', 'text': '请在提示音后留言。'}))
        call = self.call_in()
        self.assertEqual(call.voices, [('销售请按 1。', 'cmn-CN', 'Polly.Zhiyu')])
        call.press('1')
        self.assertEqual(call.voices[-1], ('请在提示音后留言。', 'cmn-CN', 'Polly.Zhiyu'))
        call.leave_message(8)
        self.assertEqual(call.voices[-1], ('谢谢，您的留言已录制。再见。', 'cmn-CN', 'Polly.Zhiyu'))

    def test_state_language_wins_over_the_company_language(self):
        self.set_company_lang('en_US')
        self.publish(language_flow(
            {'kind': 'text', 'text': 'Para ventas, pulse 1.', 'language': 'es-MX'},
            {'kind': 'text', 'text': 'Deje su mensaje después del tono.', 'language': 'es-ES',
             'voice': 'Polly.Enrique'}))
        call = self.call_in()
        self.assertEqual(call.voices, [('Para ventas, pulse 1.', 'es-MX', 'Polly.Mia')])
        call.press('9')
        self.assertEqual(call.voices[-2:], [
            ('Lo sentimos, esa no es una opción válida.', 'es-MX', 'Polly.Mia'),
            ('Para ventas, pulse 1.', 'es-MX', 'Polly.Mia')])
        call.press('1')
        call.leave_message(5)
        # The administrator's voice of the state says the add-on's words of that state too.
        self.assertEqual(call.voices[-2:], [
            ('Deje su mensaje después del tono.', 'es-ES', 'Polly.Enrique'),
            ('Gracias, su mensaje ha sido grabado. Adiós.', 'es-ES', 'Polly.Enrique')])

    def test_state_language_the_add_on_does_not_speak(self):
        """French is not installed: the add-on's words stay in the company's language and
        voice rather than an English sentence read by a French voice."""
        self.set_company_lang('es_ES')
        self.publish(language_flow(
            {'kind': 'text', 'text': 'Pour les ventes, tapez 1.', 'language': 'fr-FR',
             'voice': 'Polly.Celine'},
            {'kind': 'url', 'url': 'https://example.com/vm.wav'}))
        call = self.call_in()
        self.assertEqual(call.voices, [('Pour les ventes, tapez 1.', 'fr-FR', 'Polly.Celine')])
        call.press('5')
        self.assertEqual(call.voices[-2], ('Lo sentimos, esa no es una opción válida.', 'es-ES',
                                           'Polly.Lucia'))

    def test_english_keeps_the_accounts_default_voice(self):
        self.set_company_lang('en_US')
        self.publish(language_flow({'kind': 'text', 'text': 'Press 1 for sales.'},
                                   {'kind': 'url', 'url': 'https://example.com/vm.wav'}))
        call = self.call_in()
        call.press('4')
        self.assertEqual(call.voices[:2], [('Press 1 for sales.', None, None),
                                           ('Sorry, that is not a valid option.', None, None)])

    def test_apology_in_the_company_language(self):
        self.set_company_lang('zh_CN')
        self.publish(language_flow({'kind': 'text', 'text': '销售请按 1。'},
                                   {'kind': 'text', 'text': '请在提示音后留言。'}))
        call = self.call_in()
        with patch.object(runtime, 'on_gather', side_effect=RuntimeError('injected')), \
                self.assertLogs('odoo.addons.builtin_telephony.models.telephony_call', 'ERROR'):
            call.press('1')
        self.assertEqual(call.voices[-2:], [('抱歉，出现了问题。', 'cmn-CN', 'Polly.Zhiyu'),
                                            ('请在提示音后留言。', 'cmn-CN', 'Polly.Zhiyu')])

    def test_no_credit_refusal_in_the_company_language(self):
        self.set_company_lang('es_ES')
        self.publish(language_flow({'kind': 'url', 'url': 'https://example.com/menu.wav'},
                                   {'kind': 'url', 'url': 'https://example.com/vm.wav'}))
        with patch.object(type(self.account), '_call_allowance', return_value=(0, 0.0, 'no_credit')):
            call = self.call_in()
        self.assertEqual(call.voices, [(
            'Lo sentimos, este servicio no está disponible temporalmente. Vuelva a llamar más tarde.',
            'es-ES', 'Polly.Lucia')])
        self.assertTrue(call.ended)

    def test_outgoing_refusal_in_the_callers_language(self):
        """The softphone user hears why their call is refused in their own language."""
        self.set_company_lang('en_US')
        self.alice.user_id.lang = 'zh_CN'
        self.alice.allow_outbound = False
        call = self.driver.outgoing_call(self.alice.client_identity, '+12125550142')
        self.assertEqual(call.voices, [('您不允许进行外呼。请咨询您的电话管理员。', 'cmn-CN',
                                        'Polly.Zhiyu')])
        spanish = new_test_user(self.env, 'pilar', name='Pilar Agente', lang='es_ES',
                                groups='base.group_user,builtin_telephony.group_telephony_user')
        pilar = self.env['telephony.user'].create({'user_id': spanish.id,
                                                   'company_id': self.company.id})
        call = self.driver.outgoing_call(pilar.client_identity, '+8613800138000')
        self.assertEqual(call.voices, [('No se puede llamar a este número desde aquí.', 'es-ES',
                                        'Polly.Lucia')])
