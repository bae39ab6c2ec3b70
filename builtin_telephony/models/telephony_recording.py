import logging
import threading
import time
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.sql import create_index

from .. import const
from ..tools.provider_errors import TelephonyProviderError

_logger = logging.getLogger(__name__)

RECORDING_STATES = [
    ('pending', "Waiting for download"), ('stored', "Stored"), ('deleted', "Deleted"),
    ('discarded', "Discarded"),
]
# Months after its date that a recording is kept, per telephony.account.recording_retention.
RETENTION_MONTHS = {'3m': 3, '6m': 6}
# Recordings expired, or downloaded, per committed transaction of the crons. A retention batch
# deletes this many attachments in one transaction: well under the 10 s a transaction may last
# (bench/bench_retention.py).
RETENTION_BATCH = 1000
DOWNLOAD_BATCH = 20
# A cron call stops taking new batches after this many seconds and reports its progress; Odoo
# calls it again at once while work remains (ir.cron's progress API), on any server.
CRON_TIME_BUDGET = 60
# Minutes before the next try of a download the provider failed, by number of failures.
DOWNLOAD_RETRY_MINUTES = (1, 5, 15, 60)


def _testing():
    # Tests run in one transaction that must not be committed.
    return getattr(threading.current_thread(), 'testing', False)


class TelephonyRecording(models.Model):
    """A call recording or a voicemail (requirements §6).

    Twilio records; the recording callback creates it ``pending``; the download job (an
    ``ir.cron``, triggered after that commit, run by any server) copies the audio into an
    ``ir.attachment`` of the recording, so that it lives wherever Odoo's attachment storage is,
    then deletes it at the provider. A recording that does not fit in the storage plan is
    ``discarded`` (deleted at the provider, never stored). Retention deletes expired ones.
    """
    _name = 'telephony.recording'
    _description = "Call Recording"
    _order = 'date desc, id desc'
    _rec_name = 'provider_sid'

    call_id = fields.Many2one('telephony.call', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='call_id.company_id', store=True, index=True)
    user_id = fields.Many2one(related='call_id.user_id', store=True, string="Call owner",
                              index='btree_not_null')
    provider_sid = fields.Char("Recording SID", required=True, readonly=True, copy=False)
    duration = fields.Integer("Duration (s)", readonly=True)
    kind = fields.Selection([('call', "Call recording"), ('voicemail', "Voicemail")],
                            required=True, default='call')
    date = fields.Datetime(default=fields.Datetime.now, readonly=True, index=True)
    state = fields.Selection(
        RECORDING_STATES, required=True, default='pending', readonly=True,
        help="Discarded: not stored because the storage plan was full. Deleted: removed by the "
             "retention policy or by an administrator.")
    media_url = fields.Char("Provider URL", readonly=True, copy=False, groups='base.group_system',
                            help="Where the provider keeps the audio until it is downloaded.")
    attachment_id = fields.Many2one(
        'ir.attachment', string="Audio", readonly=True, copy=False, ondelete='set null',
        # Indexed: deleting an attachment checks this foreign key (a scan per row otherwise).
        index='btree_not_null',
        help="The audio, kept by Odoo once downloaded; empty while pending or once deleted.")
    provider_deleted = fields.Boolean(
        readonly=True, copy=False, default=False, index=True,
        help="The provider no longer has the audio (deleted there after download or on discard).")
    download_attempts = fields.Integer(readonly=True, copy=False)
    next_download_date = fields.Datetime(readonly=True, copy=False)
    audio_url = fields.Char(compute='_compute_audio_url',
                            help="Where the browser plays it: the access-checked playback route.")

    _sql_constraints = [
        ('provider_sid_uniq', 'unique(provider_sid)', "A recording is recorded once."),
    ]

    # Twilio's RecordingSource of a voicemail (the <Record> verb); every other source is a call.
    VOICEMAIL_SOURCE = 'RecordVerb'

    def init(self):
        super().init()
        # Storage usage (the sum of the stored minutes, by month for the chart) reads this index
        # alone, whatever the number of recordings (bench/bench_storage.py).
        create_index(self.env.cr, 'telephony_recording_stored_usage_index', self._table,
                     ['company_id', 'date', 'duration'], where="state = 'stored'")

    @api.depends('state', 'attachment_id')
    def _compute_audio_url(self):
        for recording in self:
            recording.audio_url = recording.state == 'stored' and f'{const.RECORDING_PLAY_ROUTE}{recording.id}'

    # ------------------------------------------------------------------------------------------
    # Capture: the recording callback, then the download job
    # ------------------------------------------------------------------------------------------

    @api.model
    def _twilio_recording_status(self, account, params):
        """Recording status callback: keep a finished recording once (idempotent on its SID),
        as a voicemail or a call recording, and wake the download job.

        Twilio is answered at once: the audio is fetched after this request commits, by the job
        (any server), never while Twilio waits.
        """
        if params.get('RecordingStatus', 'completed') != 'completed':
            return
        call = self.env['telephony.call']._find_call(account, params.get('CallSid'))
        if not call or self.search_count([('provider_sid', '=', params.get('RecordingSid'))]):
            return
        self.create({
            'call_id': call.id,
            'provider_sid': params['RecordingSid'],
            'duration': int(params.get('RecordingDuration') or 0),
            'kind': 'voicemail' if params.get('RecordingSource') == self.VOICEMAIL_SOURCE else 'call',
            'media_url': params.get('RecordingUrl'),
        })
        call.recording_duration = sum(call.recording_ids.mapped('duration'))
        # A trigger is a row: the job sees it once this request has committed.
        self.env.ref('builtin_telephony.ir_cron_telephony_recording_download').sudo()._trigger()

    def _provider_work_domain(self):
        """Recordings the provider still holds (pending, or not deleted there yet) and not
        waiting for a retry."""
        # A pending recording is never deleted at the provider: provider_deleted covers it.
        return [('provider_deleted', '=', False),
                '|', ('next_download_date', '=', False),
                ('next_download_date', '<=', fields.Datetime.now())]

    @api.model
    def _cron_download_recordings(self):
        """Download the pending recordings into attachments and delete them at the provider.

        One recording per committed transaction, so that a crash loses at most the one in hand
        (downloaded again next time). Stored audio is committed before it is deleted at the
        provider: nothing can be lost between the two. A provider that fails leaves the
        recording pending with a later retry (``DOWNLOAD_RETRY_MINUTES``).
        """
        commit = not _testing()
        started, done, last_id = time.monotonic(), 0, 0
        while not done or time.monotonic() - started < CRON_TIME_BUDGET:
            # Keyset pagination: a recording retried later or held by another server is passed.
            batch = self.sudo().search(self._provider_work_domain() + [('id', '>', last_id)],
                                       order='id', limit=DOWNLOAD_BATCH)
            if not batch:
                break
            last_id = batch[-1].id
            for recording in batch:
                if not recording._lock_for_provider_work():
                    continue
                recording._process_at_provider(commit=commit)
                if commit:
                    self.env.cr.commit()
                done += 1
        remaining = self.sudo().search_count(self._provider_work_domain())
        self.env['ir.cron']._notify_progress(done=done, remaining=remaining)
        self._schedule_next_download_retry()

    def _lock_for_provider_work(self):
        """Take this recording for this transaction, unless another server has it (False)."""
        self.ensure_one()
        self.env.cr.execute(SQL(
            "SELECT id FROM telephony_recording WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED", self.id))
        if not self.env.cr.fetchone():
            return False
        self.invalidate_recordset()
        return self.state == 'pending' or not self.provider_deleted

    def _process_at_provider(self, commit=False):
        """The provider's part of one recording: download (a pending one), then delete there."""
        self.ensure_one()
        account = self.env['telephony.account']._get_for_company(self.company_id).sudo()
        if self.state == 'pending':
            try:
                gateway = account._get_gateway()
                audio, mimetype = gateway.fetch_recording(self.provider_sid)
            except TelephonyProviderError as error:
                self._retry_later(error)
                return
            self._store_audio(account, audio, mimetype)
            if commit:
                # The audio is safe before the provider's copy goes.
                self.env.cr.commit()
        self._delete_at_provider(account)

    def _retry_later(self, error):
        """The provider failed (slow, down, refusing): try this recording again later."""
        attempts = self.download_attempts + 1
        delay = DOWNLOAD_RETRY_MINUTES[min(attempts, len(DOWNLOAD_RETRY_MINUTES)) - 1]
        _logger.warning("Recording %s: the provider failed (%s); trying again in %s min",
                        self.provider_sid, error, delay)
        self.write({'download_attempts': attempts,
                    'next_download_date': fields.Datetime.now() + timedelta(minutes=delay)})

    def _schedule_next_download_retry(self):
        """Wake the job when the earliest delayed download is due."""
        next_try = self.sudo().search([('next_download_date', '!=', False)],
                                      order='next_download_date', limit=1).next_download_date
        if next_try:
            self.env.ref('builtin_telephony.ir_cron_telephony_recording_download').sudo()._trigger(next_try)

    def _store_audio(self, account, audio, mimetype):
        """Keep the audio as an attachment of the recording, or discard the recording when it
        does not fit in the storage plan (the administrators are told once per filling)."""
        self.ensure_one()
        if not account._storage_fits(self.duration):
            self.write({'state': 'discarded', 'download_attempts': 0, 'next_download_date': False})
            self.call_id.sudo().message_post(
                body=self.env._("This call's %(kind)s (%(seconds)s s) was not stored: the recording "
                                "storage plan is full.",
                                kind=self._fields['kind'].convert_to_export(self.kind, self).lower(),
                                seconds=self.duration),
                message_type='notification', subtype_xmlid='mail.mt_note')
            account._notify_storage_full()
            self.call_id._send_voicemail_email()
            return
        extension = {'audio/wav': 'wav', 'audio/x-wav': 'wav'}.get(mimetype, 'mp3')
        attachment = self.env['ir.attachment'].sudo().create({
            'name': f'{self.provider_sid}.{extension}',
            'raw': audio,
            'mimetype': mimetype,
            'res_model': self._name,
            'res_id': self.id,
            'company_id': self.company_id.id,
        })
        self.write({'state': 'stored', 'attachment_id': attachment.id, 'download_attempts': 0,
                    'next_download_date': False})
        # A voicemail waited for its audio to be e-mailed (B4).
        self.call_id._send_voicemail_email()

    def _delete_at_provider(self, account=None):
        """Delete the audio at the provider (already gone counts as deleted); a failure is
        retried by the next run of the download job."""
        self.ensure_one()
        account = account or self.env['telephony.account']._get_for_company(self.company_id).sudo()
        try:
            account._get_gateway().delete_recording(self.provider_sid)
        except TelephonyProviderError as error:
            self._retry_later(error)
            return False
        self.write({'provider_deleted': True, 'download_attempts': 0, 'next_download_date': False})
        return True

    # ------------------------------------------------------------------------------------------
    # Playback (GET /telephony/recording/<id>, controllers/recording.py)
    # ------------------------------------------------------------------------------------------

    def _get_audio_stream(self):
        """The stored audio as an ``odoo.http.Stream`` for a user who may read the recording
        (its call): access rules are checked here, the attachment is then read as superuser.

        :raise AccessError: the user may not read the call
        :return: the stream, or None when no audio is stored
        """
        self.ensure_one()
        self.check_access('read')
        recording = self.sudo()
        if recording.state != 'stored' or not recording.attachment_id:
            return None
        stream = self.env['ir.binary']._get_stream_from(recording.attachment_id)
        stream.download_name = recording.attachment_id.name
        return stream

    # ------------------------------------------------------------------------------------------
    # Retention (R4)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _retention_domain(self):
        """Recordings past their account's retention, still stored or waiting for download."""
        now = fields.Datetime.now()
        accounts = self.env['telephony.account'].sudo().search(
            [('recording_retention', 'in', tuple(RETENTION_MONTHS))])
        terms = [[('company_id', '=', account.company_id.id),
                  ('date', '<', now - relativedelta(months=RETENTION_MONTHS[account.recording_retention]))]
                 for account in accounts]
        if not terms:
            return expression.FALSE_DOMAIN
        return expression.AND([[('state', 'in', ('stored', 'pending'))], expression.OR(terms)])

    @api.model
    def _cron_apply_retention(self):
        """Delete the recordings past their retention, ``RETENTION_BATCH`` per committed
        transaction, reporting progress to Odoo's cron; what a killed run left is found by the
        next, since every batch's work is committed with it."""
        commit = not _testing()
        started, done = time.monotonic(), 0
        domain = self._retention_domain()
        # Keyset: each batch starts after the last one, not at the recordings already expired
        # (a scan growing with every batch otherwise).
        last_id = 0
        while True:
            batch = self.sudo().search(expression.AND([domain, [('id', '>', last_id)]]),
                                       order='id', limit=RETENTION_BATCH)
            if not batch:
                break
            batch._expire()
            done += len(batch)
            last_id = batch[-1].id
            if commit:
                self.env.cr.commit()
            if len(batch) < RETENTION_BATCH or time.monotonic() - started >= CRON_TIME_BUDGET:
                break
        remaining = self.sudo().search_count(domain)
        self.env['ir.cron']._notify_progress(done=done, remaining=remaining)
        if done:
            self.env['telephony.account'].sudo().search([])._rearm_storage_full_notice()
            if commit:
                self.env.cr.commit()
        return done

    def _expire(self):
        """Delete these recordings' audio (attachment, and at the provider when still there).

        Two statements per batch, not the ORM's per-record unlink of attachments (≈15 ms each,
        bench/bench_retention.py): the recordings are marked deleted and their attachments'
        rows removed together; their files are handed to Odoo's filestore garbage collector
        (``_file_delete``), which removes a file once no attachment uses it.
        """
        if not self:
            return
        self.flush_recordset()
        self.env.cr.execute(SQL("""
            WITH old AS (
                SELECT id, attachment_id FROM telephony_recording WHERE id IN %(ids)s FOR UPDATE
            ), expired AS (
                UPDATE telephony_recording recording
                   SET state = 'deleted', attachment_id = NULL, write_uid = %(uid)s,
                       write_date = (now() AT TIME ZONE 'UTC')
                  FROM old
                 WHERE recording.id = old.id
             RETURNING old.attachment_id, recording.provider_deleted
            ), audio AS (
                DELETE FROM ir_attachment
                 WHERE id IN (SELECT attachment_id FROM expired)
                   AND res_model = 'telephony.recording'
             RETURNING store_fname
            )
            SELECT (SELECT COUNT(*) FROM expired WHERE NOT provider_deleted),
                   ARRAY(SELECT DISTINCT store_fname FROM audio WHERE store_fname IS NOT NULL)
        """, uid=self.env.uid, ids=tuple(self.ids)))
        at_provider, files = self.env.cr.fetchone()
        Attachment = self.env['ir.attachment'].sudo()
        for store_fname in files:
            Attachment._file_delete(store_fname)
        self.invalidate_recordset(['state', 'attachment_id', 'write_uid', 'write_date'])
        Attachment.invalidate_model()
        # The audio of a recording never downloaded is still at the provider: the download job
        # deletes it there (it retries what the provider fails).
        if at_provider:
            self.env.ref('builtin_telephony.ir_cron_telephony_recording_download').sudo()._trigger()
