"""Recordings (requirements R1, R3, P1): captured through real calls driven as Twilio drives them, kept by
Odoo as attachments by the download job, deleted at the provider, played through the
access-checked route, discarded when the storage is full."""
import base64
import threading
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..models import telephony_recording
from ..tools.provider_errors import NO_ANSWER, TelephonyProviderError
from ..tools.sandbox_gateway import SandboxGateway
from .common import TelephonyCase
from .prism import PrismHttpClient
from .test_flow_definition import FlowCase
from .twilio_driver import TwilioDriver, new_sid

CALLER = '+14155550199'


class RecordingFixtures:

    @classmethod
    def _recording(cls, duration=60, state='stored', user=None, date=None, with_audio=True, **values):
        """A recording of a new call of ``user``, stored with audio unless told otherwise."""
        call = cls.env['telephony.call'].create({
            'provider_sid': new_sid('CA'), 'direction': 'inbound', 'status': 'completed',
            'company_id': cls.env.company.id, 'user_id': user.id if user else False,
            'from_number': CALLER, 'to_number': '+14155550100', 'duration': duration,
        })
        recording = cls.env['telephony.recording'].create(dict({
            'call_id': call.id, 'provider_sid': new_sid('RE'), 'duration': duration,
            'date': date or fields.Datetime.now(), 'provider_deleted': state != 'pending',
        }, **values))
        if state == 'stored' and with_audio:
            attachment = cls.env['ir.attachment'].create({
                'name': f'{recording.provider_sid}.wav', 'raw': AUDIO, 'mimetype': 'audio/wav',
                'res_model': 'telephony.recording', 'res_id': recording.id})
            recording.write({'state': 'stored', 'attachment_id': attachment.id})
        elif state != 'pending':
            recording.state = state
        return recording


AUDIO = SandboxGateway('AC', 'token').fetch_recording('RE')[0]


class CountingGateway(SandboxGateway):
    """The sandbox, counting what the add-on asks of it; ``failing`` makes it fail like a
    provider that is down."""
    fetched, deleted = [], []
    failing = False

    def fetch_recording(self, sid):
        if self.failing:
            raise TelephonyProviderError(NO_ANSWER)
        self.fetched.append(sid)
        return super().fetch_recording(sid)

    def delete_recording(self, sid):
        if self.failing:
            raise TelephonyProviderError(NO_ANSWER)
        self.deleted.append(sid)


@tagged('post_install', '-at_install')
class TestRecordingCapture(HttpCase, FlowCase):
    """Recordings made by real calls through the signed webhooks."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.webhook_base_url = cls.base_url()
        cls.account.add_credits(100, 'test-recordings')
        cls.number = cls._number('+14155550100')
        cls.flow = cls._flow(number_ids=[(6, 0, cls.number.ids)])
        cls.flow.action_publish()
        (cls.alice | cls.bob | cls.carol).write({'availability': 'available'})
        cls.alice.write({'caller_id_number_ids': [(6, 0, cls.number.ids)], 'allow_outbound': True,
                         'record_outbound': True})
        cls.bob.write({'caller_id_number_ids': [(6, 0, cls.number.ids)], 'allow_outbound': True,
                       'record_outbound': False})

    def setUp(self):
        super().setUp()
        self.driver = TwilioDriver(self, self.account)
        CountingGateway.fetched, CountingGateway.deleted, CountingGateway.failing = [], [], False
        queue_gateway = type(self.driver.gateway())

        class Gateway(CountingGateway, queue_gateway):
            pass
        gateway_patch = patch.object(type(self.env['telephony.account']), '_get_gateway',
                                     lambda account: Gateway(account.sudo().twilio_account_sid, 'x'))
        gateway_patch.start()
        self.addCleanup(gateway_patch.stop)
        self.download_cron = self.env.ref('builtin_telephony.ir_cron_telephony_recording_download')

    def call_record(self, call):
        return self.env['telephony.call'].search([('provider_sid', '=', call.sid)])

    def triggers(self):
        return self.env['ir.cron.trigger'].search_count([('cron_id', '=', self.download_cron.id)])

    def download(self):
        self.env['telephony.recording']._cron_download_recordings()

    def test_incoming_call_recorded_where_the_state_says_so(self):
        triggers = self.triggers()
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        call.press('1')  # Sales: "record": true
        call.answer_and_talk(self.alice.client_identity, seconds=95)
        recording = self.call_record(call).recording_ids
        self.assertEqual((recording.kind, recording.duration, recording.state), ('call', 95, 'pending'))
        self.assertFalse(recording.attachment_id, "Twilio was answered before any download")
        self.assertEqual(self.triggers(), triggers + 1, "the download job is woken after the commit")
        self.assertEqual(recording.user_id, self.alice.user_id)

        self.download()
        self.assertEqual(recording.state, 'stored')
        self.assertEqual(recording.attachment_id.raw[:4], b'RIFF')
        self.assertEqual((recording.attachment_id.res_model, recording.attachment_id.res_id),
                         ('telephony.recording', recording.id))
        self.assertTrue(recording.provider_deleted)
        self.assertEqual(CountingGateway.fetched, [recording.provider_sid])
        self.assertEqual(CountingGateway.deleted, [recording.provider_sid], "deleted at the provider once stored")
        self.download()
        self.assertEqual(len(CountingGateway.fetched), 1, "idempotent: nothing is downloaded twice")

    def test_state_without_recording(self):
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        call.press('2')  # Support: "record": false
        self.assertFalse(call.waiting[1].get('record'))
        call.answer_and_talk(self.bob.client_identity, seconds=30)
        self.assertFalse(self.call_record(call).recording_ids)

    def test_voicemail_always_recorded(self):
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        call.press('*')
        call.leave_message(12)
        recording = self.call_record(call).recording_ids
        self.assertEqual((recording.kind, recording.duration), ('voicemail', 12))
        self.download()
        self.assertEqual(recording.state, 'stored')
        self.assertEqual(self.call_record(call).recording_id, recording, "played from the call history")

    def test_outgoing_calls_recorded_per_telephony_user(self):
        call = self.driver.outgoing_call(self.alice.client_identity, '+12125550142')
        call.callee_answers(40)
        recording = self.call_record(call).recording_ids
        self.assertEqual((recording.kind, recording.duration, recording.user_id),
                         ('call', 40, self.alice.user_id))
        call = self.driver.outgoing_call(self.bob.client_identity, '+12125550142')
        self.assertFalse(call.waiting[1].get('record'))
        call.callee_answers(40)
        self.assertFalse(self.call_record(call).recording_ids)

    def test_duplicate_callbacks_change_nothing(self):
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        call.press('*')
        call.leave_message(12)
        recording = self.call_record(call).recording_ids
        params = call.params(RecordingSid=recording.provider_sid, RecordingDuration=12,
                             RecordingStatus='completed', RecordingSource='RecordVerb',
                             RecordingUrl='https://api.twilio.com/rec')
        triggers = self.triggers()
        for _retry in range(2):
            response = self.driver.post(self.account._webhook_url('/telephony/twilio/recording'), params)
            self.assertEqual(response.status_code, 204)
        self.assertEqual(len(self.call_record(call).recording_ids), 1)
        self.assertEqual(self.call_record(call).recording_duration, 12)
        self.assertEqual(self.triggers(), triggers)

    def test_unsigned_recording_callback_is_refused(self):
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        params = call.params(RecordingSid=new_sid('RE'), RecordingDuration=5, RecordingStatus='completed')
        response = self.driver.post(self.account._webhook_url('/telephony/twilio/recording'), params,
                                    signature='forged')
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.call_record(call).recording_ids)

    def test_provider_down_delays_the_download_and_loses_nothing(self):
        call = self.driver.incoming_call(CALLER, self.number.phone_number)
        call.press('*')
        call.leave_message(12)
        recording = self.call_record(call).recording_ids
        CountingGateway.failing = True
        with self.assertLogs('odoo.addons.builtin_telephony.models.telephony_recording', 'WARNING'):
            self.download()
        self.assertEqual((recording.state, recording.download_attempts), ('pending', 1))
        retry_at = recording.next_download_date
        self.assertAlmostEqual(retry_at, fields.Datetime.now() + timedelta(minutes=1),
                               delta=timedelta(seconds=30))
        self.assertTrue(self.env['ir.cron.trigger'].search_count(
            [('cron_id', '=', self.download_cron.id), ('call_at', '=', retry_at)]), "woken for the retry")
        CountingGateway.failing = False
        self.download()
        self.assertEqual(recording.state, 'pending', "not before its retry time")
        with freeze_time(retry_at + timedelta(seconds=1)):
            self.download()
        self.assertEqual((recording.state, recording.provider_deleted), ('stored', True))


class MediaServer:
    """Twilio's media host, serving recordings' audio to requests with the account's Basic auth
    (not in Twilio's REST API description, so not Prism's)."""

    def __init__(self, credentials, status=200):
        self.expected_auth = 'Basic ' + base64.b64encode(':'.join(credentials).encode()).decode()
        self.status = status
        self.paths = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.paths.append(self.path)
                if self.headers.get('Authorization') != server.expected_auth:
                    self.send_response(401)
                    self.end_headers()
                    return
                self.send_response(server.status)
                self.send_header('Content-Type', 'audio/mpeg')
                self.end_headers()
                if server.status == 200:
                    self.wfile.write(b'ID3-fake-mp3-audio')

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@tagged('post_install', '-at_install')
class TestRecordingDownloadFromTwilio(RecordingFixtures, TelephonyCase):
    """The download job against Twilio's Recordings API (Prism) and its media host."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.write({'provider': 'twilio', 'twilio_account_sid': 'AC' + 'b' * 32,
                           'twilio_auth_token': 'auth-token'})

    @contextmanager
    def twilio(self, media_status=200):
        with MediaServer(('AC' + 'b' * 32, 'auth-token'), media_status) as media:
            http = PrismHttpClient()
            http.media_base_url = media.url
            with patch.object(type(self.account), '_get_http_client', lambda account: http):
                yield http, media

    def test_download_then_delete_at_twilio(self):
        recording = self._recording(30, state='pending')
        with self.twilio() as (http, media):
            self.env['telephony.recording']._cron_download_recordings()
        path = f'/2010-04-01/Accounts/{"AC" + "b" * 32}/Recordings/{recording.provider_sid}.json'
        self.assertEqual(http.sent, [('GET', path), ('DELETE', path)])
        # Prism answers with its example, whose uri names the example's recording.
        self.assertEqual(media.paths, ['/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/'
                                       'Recordings/REaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.mp3'])
        self.assertEqual((recording.state, recording.provider_deleted), ('stored', True))
        self.assertEqual((recording.attachment_id.raw, recording.attachment_id.mimetype),
                         (b'ID3-fake-mp3-audio', 'audio/mpeg'))
        self.assertTrue(recording.attachment_id.name.endswith('.mp3'))

    def test_twilio_rate_limiting_is_retried(self):
        recording = self._recording(30, state='pending')
        with self.twilio() as (http, media), \
                self.assertLogs('odoo.addons.builtin_telephony.models.telephony_recording', 'WARNING'):
            http.force_status = 429
            self.env['telephony.recording']._cron_download_recordings()
        self.assertEqual((recording.state, recording.download_attempts), ('pending', 1))
        self.assertFalse(media.paths)

    def test_media_host_failure_is_retried_and_nothing_deleted(self):
        recording = self._recording(30, state='pending')
        with self.twilio(media_status=503) as (http, media), \
                self.assertLogs('odoo.addons.builtin_telephony.models.telephony_recording', 'WARNING'):
            self.env['telephony.recording']._cron_download_recordings()
        self.assertEqual(recording.state, 'pending')
        self.assertNotIn('DELETE', [method for method, _path in http.sent],
                         "the provider keeps the audio until Odoo has it")


@tagged('post_install', '-at_install')
class TestStorageQuota(RecordingFixtures, TelephonyCase):
    """The free plan's 1,000 minutes: the recording that crosses them is discarded, and the
    administrators are told once per filling (requirements R3)."""

    def setUp(self):
        super().setUp()
        CountingGateway.fetched, CountingGateway.deleted, CountingGateway.failing = [], [], False
        gateway_patch = patch.object(type(self.account), '_get_gateway',
                                     lambda account: CountingGateway('AC', 'x'))
        gateway_patch.start()
        self.addCleanup(gateway_patch.stop)

    def notices(self):
        return self.account.message_ids.filtered(lambda message: message.subject == "Recording storage is full")

    def test_recording_that_crosses_the_limit_is_discarded_once_notified(self):
        self._recording(59_900, with_audio=False)  # 998:20 of the 1,000 minutes
        self.assertEqual((self.account.storage_used_minutes, self.account.storage_limit_minutes),
                         (998.3, 1000), "shown to the tenth of a minute")
        fits = self._recording(100, state='pending')  # exactly up to the limit
        crosses = self._recording(1, state='pending')
        again = self._recording(5, state='pending')
        self.env['telephony.recording']._cron_download_recordings()
        self.assertEqual(fits.state, 'stored')
        self.assertEqual((crosses.state, again.state), ('discarded', 'discarded'))
        self.assertFalse(crosses.attachment_id)
        self.assertIn("This call's call recording (1 s) was not stored: the recording storage plan is full.",
                      crosses.call_id.message_ids.mapped('body')[0], "the call says so")
        self.assertEqual(sorted(CountingGateway.fetched), sorted((fits | crosses | again).mapped('provider_sid')))
        self.assertEqual(sorted(CountingGateway.deleted), sorted((fits | crosses | again).mapped('provider_sid')),
                         "discarded recordings are deleted at the provider too")
        self.account.invalidate_recordset()
        self.assertEqual(self.account.storage_used_minutes, 1000)
        notice = self.notices()
        self.assertEqual(len(notice), 1, "one notice for this filling, not one per recording")
        self.assertIn(self.telephony_admin.partner_id, notice.partner_ids)

        # Room is made (a larger plan): the next filling is announced again.
        self.account.add_credits(100, 'test-storage')
        self.account.with_user(self.telephony_admin).set_storage_plan('50k')
        self.assertFalse(self.account.storage_full_notified)
        self._recording(50_000 * 60 - 60_000, with_audio=False)
        self._recording(10, state='pending')
        self.env['telephony.recording']._cron_download_recordings()
        self.assertEqual(len(self.notices()), 2)


@tagged('post_install', '-at_install')
class TestPlayback(RecordingFixtures, HttpCase):
    """GET /telephony/recording/<id>: the owner, an administrator; not another user, nor the
    public; Range requests for seeking."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Users = cls.env['res.users'].with_context(no_reset_password=True)
        cls.owner, cls.other, cls.admin_user = (Users.create({
            'name': name, 'login': login, 'password': login + '-password-1',
            'groups_id': [(6, 0, [cls.env.ref(group).id])]})
            for name, login, group in (
                ('Olive Owner', 'olive', 'builtin_telephony.group_telephony_user'),
                ('Otto Other', 'otto', 'builtin_telephony.group_telephony_user'),
                ('Ada Admin', 'ada', 'builtin_telephony.group_telephony_admin')))
        cls.recording = cls._recording(45, user=cls.owner)

    def get(self, login, path=None, **headers):
        self.authenticate(login, login and login + '-password-1')
        return self.url_open(path or f'/telephony/recording/{self.recording.id}', headers=headers,
                             allow_redirects=False)

    def test_owner_plays_and_seeks(self):
        response = self.get('olive')
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers['Content-Type'], 'audio/wav')
        self.assertEqual(response.content, AUDIO)
        self.assertEqual(response.headers['Accept-Ranges'], 'bytes')
        self.assertIn('no-store', response.headers['Cache-Control'])
        response = self.get('olive', Range='bytes=1000-1999')
        self.assertEqual(response.status_code, 206)
        self.assertEqual(response.headers['Content-Range'], f'bytes 1000-1999/{len(AUDIO)}')
        self.assertEqual(response.content, AUDIO[1000:2000])

    def test_administrator_plays_any_recording(self):
        self.assertEqual(self.get('ada').content, AUDIO)

    def test_other_user_and_public_get_nothing(self):
        self.assertEqual(self.get('otto').status_code, 403)
        response = self.get(None)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn('/web/login', response.headers['Location'])
        # Nor through the attachment itself.
        response = self.get('otto', f'/web/content/{self.recording.attachment_id.id}')
        self.assertIn(response.status_code, (403, 404))
        self.assertNotEqual(response.content, AUDIO)
        self.assertEqual(self.get('olive', f'/web/content/{self.recording.attachment_id.id}').content, AUDIO)

    def test_missing_or_not_stored(self):
        self.assertEqual(self.get('ada', '/telephony/recording/999999').status_code, 404)
        pending = self._recording(10, state='pending', user=self.owner)
        self.assertEqual(self.get('olive', f'/telephony/recording/{pending.id}').status_code, 404)
        self.assertFalse(pending.audio_url)
        self.assertEqual(self.recording.audio_url, f'/telephony/recording/{self.recording.id}')
