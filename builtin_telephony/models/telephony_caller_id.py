import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import const
from ..tools.phone import number_type_of, to_e164

_logger = logging.getLogger(__name__)

# Set only by the verification itself (the provider's answer), never typed by anyone.
VERIFICATION_FIELDS = {'state', 'validation_code', 'validation_call_sid', 'provider_sid',
                       'verification_call_count', 'verification_window_start', 'last_verification_call'}
# A verification is an outgoing call we pay for: a few per user and day, not one a minute.
VERIFICATION_CALLS_PER_DAY = 5
VERIFICATION_CALL_INTERVAL = timedelta(minutes=1)
# What a verification call is charged: the provider does not report its duration, and it lasts
# well under a minute (the code is typed, the call ends).
VERIFICATION_CALL_SECONDS = 60


class TelephonyCallerId(models.Model):
    """A custom outgoing caller ID: a number of the user's own (e.g. a support line) that the
    provider has verified they answer, so that it may be shown to the people they call (U1).

    Verification, as Twilio does it: the provider calls the number and the person who answers
    types the code shown here; the outcome arrives on ``/telephony/twilio/caller_id``
    (:meth:`_process_verification_result`). The sandbox provider plays the same steps: the user
    types the code in the form, as they would on the phone, and the same handler runs.
    """
    _name = 'telephony.caller.id'
    _description = "Custom Outgoing Caller ID"
    _order = 'telephony_user_id, phone_number'
    _rec_name = 'phone_number'

    telephony_user_id = fields.Many2one(
        'telephony.user', string="Telephony user", required=True, index=True, ondelete='cascade',
        default=lambda self: self._default_telephony_user())
    company_id = fields.Many2one(related='telephony_user_id.company_id', store=True, index=True)
    account_id = fields.Many2one(related='telephony_user_id.account_id')
    provider = fields.Selection(related='telephony_user_id.account_id.provider')
    phone_number = fields.Char("Number", required=True, help="In E.164 form.")
    friendly_name = fields.Char("Label", help="e.g. Support line")
    state = fields.Selection(
        [('draft', "Not verified yet"), ('pending', "Verification call in progress"),
         ('verified', "Verified"), ('failed', "Verification failed")],
        required=True, default='draft', readonly=True, copy=False)
    validation_code = fields.Char(
        "Verification code", readonly=True, copy=False,
        help="Type it on the phone when the verification call comes in.")
    validation_call_sid = fields.Char("Verification call", readonly=True, copy=False, index=True)
    provider_sid = fields.Char("Provider ID", readonly=True, copy=False,
                               help="The provider's outgoing caller ID (PN…), once verified.")
    # The rate limit of verification calls (a toll-fraud path otherwise).
    verification_call_count = fields.Integer(readonly=True, copy=False)
    verification_window_start = fields.Datetime(readonly=True, copy=False)
    last_verification_call = fields.Datetime(readonly=True, copy=False)
    entered_code = fields.Char(
        "Code typed on the phone", copy=False,
        help="Sandbox: the code the person answering the verification call types.")

    _sql_constraints = [
        ('user_number_uniq', 'unique(telephony_user_id, phone_number)',
         "This number is already one of this user's custom caller IDs."),
    ]

    def _default_telephony_user(self):
        return self.env['telephony.user'].search(
            [('user_id', '=', self.env.uid), ('company_id', '=', self.env.company.id)], limit=1)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_verification_fields(vals)
            if vals.get('phone_number'):
                telephony_user = self.env['telephony.user'].browse(vals.get('telephony_user_id')) \
                    or self._default_telephony_user()
                company = telephony_user.company_id or self.env.company
                vals['phone_number'] = to_e164(vals['phone_number'], company.country_id.code)
        caller_ids = super().create(vals_list)
        caller_ids._check_custom_caller_id_allowed()
        return caller_ids

    def write(self, vals):
        self._check_verification_fields(vals)
        if 'phone_number' in vals or 'telephony_user_id' in vals:
            # Another number is another verification.
            if any(caller_id.state != 'draft' for caller_id in self):
                raise UserError(_(
                    "A number that was sent for verification cannot be changed. Remove it and "
                    "add the new number instead."))
            if vals.get('phone_number'):
                vals['phone_number'] = to_e164(
                    vals['phone_number'], self.company_id[:1].country_id.code)
        return super().write(vals)

    def _check_verification_fields(self, vals):
        # Only the verification (run as superuser) says a number is verified.
        if not self.env.su and VERIFICATION_FIELDS & set(vals):
            raise AccessError(_(
                "Only the verification call can mark a caller ID as verified. Use the Verify "
                "button."))

    def _check_custom_caller_id_allowed(self):
        for caller_id in self:
            if not caller_id.telephony_user_id.allow_custom_caller_id:
                raise UserError(_(
                    "%(user)s may not use custom outgoing caller IDs. A telephony administrator "
                    "can allow it in Telephony > Built-in Telephony > Telephony users.",
                    user=caller_id.telephony_user_id.name))

    # ------------------------------------------------------------------------------------------
    # Verification
    # ------------------------------------------------------------------------------------------

    def action_start_verification(self):
        """Ask the provider to call the number; the code to type is shown on the form."""
        self.ensure_one()
        self.check_access('write')
        self._check_custom_caller_id_allowed()
        if self.state == 'verified':
            raise UserError(_("%s is already verified.", self.phone_number))
        account = self.sudo().account_id
        self._check_verification_call_allowed(account)
        with account._provider() as gateway:
            validation = gateway.start_caller_id_validation(
                self.phone_number, self.friendly_name or self.telephony_user_id.name,
                account._webhook_url(const.CALLER_ID_ROUTE))
        self._charge_verification_call(account, validation['call_sid'])
        now = fields.Datetime.now()
        self.sudo().write({
            'state': 'pending',
            'last_verification_call': now,
            'verification_call_count': self.verification_call_count + 1,
            'verification_window_start': self.verification_window_start or now,
            'validation_code': validation['validation_code'],
            'validation_call_sid': validation['call_sid'],
            'provider_sid': False,
            'entered_code': False,
        })
        return True

    def _charge_verification_call(self, account, call_sid):
        """The provider placed the verification call: charge it like an outgoing call to the
        number (one minute at its rate), once per call (reference: its CallSid)."""
        self.ensure_one()
        transaction = account._charge_call(
            'outbound', self.phone_number, number_type_of(self.phone_number),
            VERIFICATION_CALL_SECONDS, call_sid,
            description=_("Caller ID verification call to %(number)s", number=self.phone_number))
        if transaction is None:
            # Checked before the call; a rate removed meanwhile cannot make it free silently.
            _logger.error("Verification call %s to %s cannot be charged: no call rate matches it",
                          call_sid, self.phone_number)
        return transaction

    def _check_verification_call_allowed(self, account):
        """A verification call is an outgoing call like any other: the destination must be
        callable (not +86, not blocked, in a country outgoing calls may reach), the credits and
        the daily spending limits must pay for it, and a user may ask for a few a day only.

        :raise odoo.exceptions.UserError: saying which rule refuses it
        """
        self.ensure_one()
        self.env['telephony.blocked.number']._check_outbound_destination(self.phone_number, account.company_id)
        refusal = account._outbound_country_refusal(self.phone_number)
        if refusal:
            raise UserError(refusal)
        number_type = number_type_of(self.phone_number)
        if not account._has_credit_for_calls('outbound', self.phone_number, number_type):
            raise UserError(_("The telephony credits cannot pay for the verification call. Ask an "
                              "administrator to buy credits."))
        # B5: the daily spending limits leave room for its minute, as for any outgoing call.
        price = self.env['telephony.rate']._price_per_minute('outbound', self.phone_number, number_type)
        _seconds, refusal = account._limit_outbound_seconds(
            self.telephony_user_id, price, VERIFICATION_CALL_SECONDS)
        if refusal:
            raise UserError(refusal)
        now = fields.Datetime.now()
        if self.last_verification_call and now - self.last_verification_call < VERIFICATION_CALL_INTERVAL:
            raise UserError(_("A verification call was just made: wait a minute before asking for another."))
        day_ago = now - timedelta(days=1)
        recent = self.sudo().search([('telephony_user_id', '=', self.telephony_user_id.id),
                                     ('verification_window_start', '>', day_ago)])
        if sum(recent.mapped('verification_call_count')) >= VERIFICATION_CALLS_PER_DAY:
            raise UserError(_(
                "%(count)s verification calls were made in the last 24 hours: try again tomorrow, "
                "or ask a telephony administrator.", count=VERIFICATION_CALLS_PER_DAY))
        if self.verification_window_start and self.verification_window_start <= day_ago:
            # A new day for this number.
            self.sudo().write({'verification_call_count': 0, 'verification_window_start': False})

    def action_sandbox_answer_call(self):
        """Sandbox: answer the simulated verification call and type ``entered_code``.

        Runs the handler of Twilio's callback with the parameters Twilio would post, so that the
        sandbox goes through the same steps as the real thing.
        """
        self.ensure_one()
        self.check_access('write')
        account = self.sudo().account_id
        if account.provider != 'sandbox':
            raise UserError(_("Only the sandbox simulates verification calls; with Twilio, answer "
                              "the call on %s.", self.phone_number))
        if self.state != 'pending':
            raise UserError(_("Click Verify first: the verification call has not started."))
        success = (self.entered_code or '').strip() == self.validation_code
        caller_ids = []
        if success:
            with account._provider() as gateway:
                caller_ids = gateway.list_caller_ids(self.phone_number)
        self.env['telephony.caller.id']._process_verification_result(account.sudo(), {
            'AccountSid': account.sudo().twilio_account_sid,
            'CallSid': self.validation_call_sid,
            'To': self.phone_number,
            'VerificationStatus': 'success' if success else 'failed',
            'OutgoingCallerIdSid': caller_ids[0]['sid'] if caller_ids else '',
        })
        if not success:
            raise UserError(_("The code typed does not match %(code)s: the verification failed. "
                              "Click Verify to be called again.", code=self.validation_code))
        return True

    @api.model
    def _process_verification_result(self, account, params):
        """Record the outcome of a verification call from Twilio's status callback parameters
        (``VerificationStatus`` ``success``/``failed``, ``OutgoingCallerIdSid``, ``CallSid``,
        ``To`` or ``PhoneNumber``). A repeated callback changes nothing.

        :return: the caller ID concerned (sudo), or an empty recordset if unknown
        """
        caller_ids = self.sudo()
        company_domain = [('company_id', '=', account.company_id.id)]
        call_sid = params.get('CallSid')
        caller_id = call_sid and caller_ids.search(
            company_domain + [('validation_call_sid', '=', call_sid)], limit=1)
        if not caller_id:
            # Twilio documents the callback loosely: fall back on the number being verified.
            number = to_e164(params.get('PhoneNumber') or params.get('To') or params.get('Called'),
                             raise_exception=False)
            caller_id = number and caller_ids.search(
                company_domain + [('phone_number', '=', number), ('state', '=', 'pending')], limit=1)
        if not caller_id:
            _logger.warning("Caller ID verification result for an unknown call %s", call_sid)
            return caller_ids.browse()
        if caller_id.state != 'pending':
            return caller_id  # a retry of a callback already processed
        status = (params.get('VerificationStatus') or '').lower()
        if status == 'success':
            caller_id.write({'state': 'verified',
                             'provider_sid': params.get('OutgoingCallerIdSid') or False})
        else:
            caller_id.write({'state': 'failed'})
        return caller_id

    @api.ondelete(at_uninstall=False)
    def _unlink_at_provider(self):
        # The provider keeps verified numbers per account: forget them there too, so that the
        # account does not keep allowing a number nobody here may use any more.
        for caller_id in self.sudo().filtered('provider_sid'):
            with caller_id.account_id._provider() as gateway:
                gateway.delete_caller_id(caller_id.provider_sid)
