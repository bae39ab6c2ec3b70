import hashlib
import logging
import math
import secrets
import threading
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from urllib.parse import urlparse

import psycopg2
from dateutil.relativedelta import relativedelta
import pytz

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, format_date
from odoo.tools.misc import formatLang

from .. import const
from ..tools import rating
from ..tools.gateways import get_gateway
from ..tools.phone import country_code_of
from ..tools.provider_errors import TelephonyProviderError
from .telephony_spend_day import COMPANY_SCOPE
from .telephony_wallet_transaction import CREDIT_KINDS, DEBIT_KINDS

_logger = logging.getLogger(__name__)

ADMIN_GROUP = 'builtin_telephony.group_telephony_admin'

# Shown read-only on the page, set by the add-on alone: refused to anyone else, RPC included.
PROTECTED_FIELDS = {'company_id', 'settled_balance', 'credits_exhausted_notified',
                    'auto_recharge_notified_reference'}
# Auto-recharge: a minimum and an amount a person would choose (the amount is one purchase).
MAX_AUTO_RECHARGE_MIN = 10_000
MAX_AUTO_RECHARGE_AMOUNT = 10_000
# A manual top-up.
MAX_ADJUSTMENT = 1_000_000
# Hosts Twilio cannot reach, accepted without https for development only.
LOOPBACK_HOSTS = ('localhost', '127.0.0.1', '::1')

# Credits per month of each recording storage plan (R2).
STORAGE_PLAN_PRICES = {'free': 0.0, '50k': 25.0, '200k': 50.0, '1m': 75.0}
STORAGE_PLAN_MINUTES = {'free': 1_000, '50k': 50_000, '200k': 200_000, '1m': 1_000_000}

class TelephonyAccount(models.Model):
    """The Built-in Telephony page of one company: its provider, numbers and credits.

    Every call to the provider goes through :meth:`_get_gateway`, which returns the
    ``twilio`` or ``sandbox`` gateway of ``tools/`` behind the same interface.
    """
    _name = 'telephony.account'
    _description = "Telephony Account"
    _inherit = ['mail.thread']
    _rec_name = 'company_id'

    company_id = fields.Many2one(
        'res.company', required=True, readonly=True, index=True, ondelete='cascade',
        default=lambda self: self.env.company)
    currency_id = fields.Many2one(related='company_id.currency_id')
    provider = fields.Selection(
        [('sandbox', "Sandbox"), ('twilio', "Twilio")], required=True, default='sandbox',
        tracking=True,
        help="Sandbox simulates the provider for demos, trials and tests: numbers and calls "
             "behave like Twilio's, nothing is bought and nothing is charged by a carrier.")
    twilio_account_sid = fields.Char(
        "Account SID", groups=ADMIN_GROUP, tracking=True, copy=False, index=True,
        default=lambda self: 'AC' + secrets.token_hex(16))
    twilio_auth_token = fields.Char(
        "Auth Token", groups=ADMIN_GROUP, copy=False,
        default=lambda self: secrets.token_hex(16),
        help="Twilio signs every webhook with it; with the sandbox provider it is the signing "
             "key of the simulated calls.")
    webhook_base_url = fields.Char(
        "Public URL", groups=ADMIN_GROUP, default=lambda self: self._default_webhook_base_url(),
        help="The public https address at which Twilio reaches this database, e.g. "
             "https://crm.example.com. Twilio signs every request with it: it is saved once (from "
             "the web.base.url system parameter when the account is created) and changes only "
             "here, whatever address people log in from; the numbers follow it.")
    webhook_check = fields.Text(
        "Webhook check", compute='_compute_webhook_check', groups=ADMIN_GROUP,
        help="Why Twilio's requests would not reach this database or would be refused, if so.")
    # The browser softphone's access tokens (docs/contracts.md): an API key signs them, the TwiML App
    # says which URL answers the calls the softphone places.
    twilio_api_key_sid = fields.Char(
        "API Key SID", groups=ADMIN_GROUP, copy=False,
        help="A Twilio API key (SK...) of this account: it signs the softphones' access tokens. "
             "Create one in Twilio's console, under Account > API keys.")
    twilio_api_key_secret = fields.Char(
        "API Key Secret", groups=ADMIN_GROUP, copy=False,
        help="The secret Twilio shows once, when the API key is created.")
    twilio_twiml_app_sid = fields.Char(
        "TwiML App SID", groups=ADMIN_GROUP, copy=False,
        help="The TwiML App (AP...) whose voice URL answers the calls placed from the softphone. "
             "'Create the TwiML App' makes one pointing at this database; it follows the "
             "public URL when that changes.")
    voice_webhook_url = fields.Char("Voice URL", compute='_compute_webhook_urls', groups=ADMIN_GROUP)
    status_webhook_url = fields.Char("Status callback URL", compute='_compute_webhook_urls',
                                     groups=ADMIN_GROUP)
    client_webhook_url = fields.Char("TwiML App voice URL", compute='_compute_webhook_urls',
                                     groups=ADMIN_GROUP)

    balance = fields.Float(
        "Available credits", digits=(16, 4), compute='_compute_balance', groups=ADMIN_GROUP,
        help="1 credit = 1 USD. The sum of the credit transactions.")
    # Technical: the sum of the ledger lines already settled (telephony.wallet.transaction._settle).
    settled_balance = fields.Float(digits=(16, 4), default=0.0, readonly=True, copy=False,
                                   groups=ADMIN_GROUP)
    balance_company_currency = fields.Monetary(
        "Available credits in company currency", compute='_compute_balance',
        currency_field='currency_id', groups=ADMIN_GROUP)
    daily_spend_limit = fields.Float(
        "Daily limit of outgoing calls", digits=(16, 2), default=0.0, tracking=True,
        groups=ADMIN_GROUP,
        help="Credits that the company's outgoing calls may spend per day (in the company's time "
             "zone), calls in progress included: a call is cut when it would pass it. 0: no "
             "limit. Administrators are told at 80% and 100%, once a day.")
    allowed_country_ids = fields.Many2many(
        'res.country', 'telephony_account_allowed_country_rel', 'account_id', 'country_id',
        string="Countries outgoing calls may reach", groups=ADMIN_GROUP,
        help="Empty: the company's country only. Calls to China (+86) are refused whatever is "
             "set here.")
    overdraft_limit = fields.Float(
        "Allowed overdraft", digits=(16, 2), default=0.0, tracking=True, groups=ADMIN_GROUP,
        help="Credits the balance may go below zero. 0: calls that cost credits are refused as "
             "soon as the credits run out.")
    partner_managed = fields.Boolean(
        "Managed by a partner", tracking=True,
        help="Accounts whose credits are managed by an Odoo partner for their customers have no "
             "auto-recharge.")
    credits_exhausted_notified = fields.Boolean(
        readonly=True, copy=False,
        help="Administrators were told that calls are refused for lack of credits; cleared when "
             "credits arrive, so that they are told once per shortage.")
    wallet_transaction_ids = fields.One2many('telephony.wallet.transaction', 'account_id',
                                             string="Credit transactions", groups=ADMIN_GROUP)
    storage_plan = fields.Selection(
        [('free', "Free (1,000 minutes)"), ('50k', "50,000 minutes"),
         ('200k', "200,000 minutes"), ('1m', "1,000,000 minutes")],
        required=True, default='free', tracking=True)
    recording_retention = fields.Selection(
        [('never', "Never delete"), ('3m', "After 3 months"), ('6m', "After 6 months")],
        required=True, default='never', tracking=True,
        help="Recordings are deleted this long after their date, by a scheduled action.")
    storage_used_minutes = fields.Float(
        "Storage used (min)", compute='_compute_storage', digits=(16, 1),
        help="Minutes of the recordings stored now: their duration, not their size, counts.")
    storage_limit_minutes = fields.Integer("Storage plan (min)", compute='_compute_storage')
    storage_full_notified = fields.Boolean(
        readonly=True, copy=False,
        help="Administrators were told that the storage is full; re-armed when room is made, "
             "so that they are told once each time it fills.")
    auto_recharge = fields.Boolean(tracking=True, groups=ADMIN_GROUP)
    auto_recharge_min = fields.Float("Recharge below", digits=(16, 2), default=10.0, groups=ADMIN_GROUP)
    auto_recharge_amount = fields.Float("Credits to add", digits=(16, 2), default=50.0, groups=ADMIN_GROUP)
    auto_recharge_token_id = fields.Many2one(
        'payment.token', string="Pay with", tracking=True, groups=ADMIN_GROUP,
        domain="[('partner_id', '=', company_partner_id)]",
        help="A saved payment method, charged for every auto-recharge.")
    company_partner_id = fields.Many2one(related='company_id.partner_id')
    pending_purchase_count = fields.Integer(
        "Pending purchases", compute='_compute_pending_purchases', groups=ADMIN_GROUP,
        help="Payments of credits sent but not confirmed yet (bank debits, 3-D Secure): their "
             "credits arrive once the payment provider confirms them.")
    pending_purchase_summary = fields.Text(compute='_compute_pending_purchases', groups=ADMIN_GROUP)
    # Payment tokens are readable by their owner only (payment's record rule); the company's
    # saved methods are offered to telephony administrators through this selection instead.
    auto_recharge_token_choice = fields.Selection(
        selection='_selection_company_tokens', string="Pay with ", groups=ADMIN_GROUP,
        compute='_compute_auto_recharge_token_choice', inverse='_inverse_auto_recharge_token_choice')
    has_payment_tokens = fields.Boolean(compute='_compute_has_payment_tokens', groups=ADMIN_GROUP)
    auto_recharge_notified_reference = fields.Char(
        readonly=True, copy=False, groups=ADMIN_GROUP,
        help="The shortage for which administrators were last told that no auto-recharge "
             "could be made; they are told once per shortage.")

    # The tabs of the page (requirements §1), each a list edited in place.
    number_ids = fields.One2many('telephony.number', 'account_id', string="Phone numbers")
    number_count = fields.Integer(compute='_compute_number_count')
    flow_ids = fields.One2many('telephony.flow', 'account_id', string="Call flows",
                               context={'active_test': False})  # enabling a flow again happens there
    telephony_user_ids = fields.One2many('telephony.user', 'account_id', string="Telephony users")
    telephony_group_ids = fields.One2many('telephony.group', 'account_id', string="Telephony groups")
    blocked_number_ids = fields.One2many('telephony.blocked.number', 'account_id',
                                         string="Block list")
    # What the numbers' monthly job charges next (I8): never a surprise.
    next_charge_date = fields.Date("Next monthly charge", compute='_compute_next_charge', groups=ADMIN_GROUP)
    next_charge_credits = fields.Float("Credits of the next monthly charge", digits=(16, 2),
                                       compute='_compute_next_charge', groups=ADMIN_GROUP)
    next_charge_summary = fields.Char(compute='_compute_next_charge', groups=ADMIN_GROUP)
    monthly_numbers_credits = fields.Float("Numbers per month", digits=(16, 2),
                                           compute='_compute_next_charge', groups=ADMIN_GROUP)
    admin_names = fields.Char(
        "Telephony administrators", compute='_compute_admin_names',
        help="Who may open this page and change it: the users with the Telephony / "
             "Administrator access right in this company.")

    _sql_constraints = [
        ('company_uniq', 'unique(company_id)', "A company has one telephony account."),
    ]

    # ------------------------------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------------------------------

    @api.depends('company_id')
    @api.depends_context('allowed_company_ids')
    def _compute_display_name(self):
        # The page's name, as a settings page is named; the company only when there are several.
        several = len(self.env.user.company_ids) > 1
        for account in self:
            account.display_name = _("Built-in Telephony (%(company)s)", company=account.company_id.name) \
                if several else _("Built-in Telephony")

    def _compute_next_charge(self):
        today = fields.Date.context_today(self)
        for account in self:
            numbers = account.number_ids
            # paid_until is the day the next month is charged; a number recorded without a
            # purchase (no paid_until) is charged by the next run of the monthly job.
            due = {number: max(number.paid_until or today, today) for number in numbers}
            account.monthly_numbers_credits = sum(numbers.mapped('monthly_price'))
            if not due:
                account.next_charge_date = False
                account.next_charge_credits = 0.0
                account.next_charge_summary = False
                continue
            date = min(due.values())
            charged = numbers.filtered(lambda number: due[number] == date)
            account.next_charge_date = date
            account.next_charge_credits = sum(charged.mapped('monthly_price'))
            account.next_charge_summary = _(
                "%(credits)s credits on %(date)s for %(numbers)s",
                credits=formatLang(self.env, account.next_charge_credits),
                date=format_date(account.env, date),
                numbers=", ".join(charged.mapped('display_name')))

    def _compute_admin_names(self):
        for account in self:
            account.admin_names = ", ".join(
                account._telephony_admins().filtered('active').sorted('name').mapped('name'))

    @api.model
    def _default_webhook_base_url(self):
        return (self.env['ir.config_parameter'].sudo().get_param('web.base.url') or '').rstrip('/') or False

    def init(self):
        # Accounts of earlier versions followed web.base.url, which Odoo rewrites when an
        # administrator logs in from another address: save it once, as new accounts do.
        self.env.cr.execute("""
            UPDATE telephony_account
               SET webhook_base_url = RTRIM((SELECT value FROM ir_config_parameter
                                              WHERE key = 'web.base.url'), '/')
             WHERE COALESCE(webhook_base_url, '') = ''
        """)

    @api.depends('webhook_base_url', 'provider')
    def _compute_webhook_check(self):
        for account in self:
            account.webhook_check = '\n'.join(account._webhook_problems()) or False

    def _webhook_problems(self):
        """Why webhooks would fail, in words for the page (empty when nothing is known wrong)."""
        self.ensure_one()
        url = self.sudo().webhook_base_url
        if not url:
            return [_("No public URL: Twilio has nowhere to send calls. Enter the address of this "
                      "database as the Internet sees it.")]
        parsed = urlparse(url)
        problems = []
        if parsed.scheme not in ('http', 'https') or not parsed.hostname:
            return [_("The public URL %s is not a web address (e.g. https://crm.example.com).", url)]
        if parsed.query or parsed.fragment:
            problems.append(_("The public URL must not have a query string or a fragment."))
        if self.provider == 'twilio':
            if parsed.hostname in LOOPBACK_HOSTS or parsed.hostname.endswith('.local'):
                problems.append(_("Twilio cannot reach %s: enter the public address of this database.",
                                  parsed.hostname))
            elif parsed.scheme != 'https':
                problems.append(_("Twilio calls webhooks over https: the public URL must start with https://."))
        return problems

    @api.constrains('provider', 'webhook_base_url')
    def _check_webhook_base_url(self):
        for account in self:
            url = account.sudo().webhook_base_url
            if not url:
                continue
            parsed = urlparse(url)
            if parsed.scheme not in ('http', 'https') or not parsed.hostname:
                raise ValidationError(_("The public URL %s is not a web address (e.g. https://crm.example.com).", url))
            if account.provider == 'twilio' and parsed.scheme != 'https' \
                    and parsed.hostname not in LOOPBACK_HOSTS:
                raise ValidationError(_(
                    "Twilio calls webhooks over https: the public URL must start with https:// "
                    "(%s does not).", url))

    @api.constrains('auto_recharge', 'auto_recharge_min', 'auto_recharge_amount', 'auto_recharge_token_id')
    def _check_auto_recharge(self):
        for account in self.sudo():
            for value in (account.auto_recharge_min, account.auto_recharge_amount):
                if not math.isfinite(value):
                    raise ValidationError(_("Enter a number."))
            if not 0 <= account.auto_recharge_min <= MAX_AUTO_RECHARGE_MIN:
                raise ValidationError(_("Recharge below a balance between 0 and %s credits.",
                                        formatLang(self.env, MAX_AUTO_RECHARGE_MIN, digits=0)))
            if account.auto_recharge and not 1 <= account.auto_recharge_amount <= MAX_AUTO_RECHARGE_AMOUNT:
                raise ValidationError(_("Recharge between 1 and %s credits at a time.",
                                        formatLang(self.env, MAX_AUTO_RECHARGE_AMOUNT, digits=0)))
            token = account.auto_recharge_token_id
            if token and token.partner_id != account.company_id.partner_id:
                raise ValidationError(_(
                    "Auto-recharge pays with a saved payment method of %(company)s only.",
                    company=account.company_id.name))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_finite(vals)
        return super().create(vals_list)

    @api.model
    def _check_finite(self, vals):
        # NaN and infinities are not amounts (and would break rounding on the way in).
        for name in ('auto_recharge_min', 'auto_recharge_amount', 'overdraft_limit'):
            value = vals.get(name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValidationError(_("Enter a number."))

    def write(self, vals):
        self._check_finite(vals)
        if not self.env.su and PROTECTED_FIELDS & set(vals):
            raise AccessError(_("%(fields)s cannot be changed: the add-on keeps them.",
                                fields=', '.join(sorted(PROTECTED_FIELDS & set(vals)))))
        old_urls = {account.id: account.sudo().webhook_base_url for account in self} \
            if 'webhook_base_url' in vals else {}
        result = super().write(vals)
        for account in self.filtered(lambda a: old_urls and old_urls[a.id] != a.sudo().webhook_base_url):
            account._update_twiml_app_webhook()
            account._update_numbers_webhooks()
        return result

    def _update_twiml_app_webhook(self):
        """Point the softphone's TwiML App at the current public URL (after it changed), so that
        outgoing calls keep reaching this database. Idempotent, like the numbers' update; asked
        first, so that an App gone at the provider stops the change before any number moves."""
        self.ensure_one()
        app_sid = self.sudo().twilio_twiml_app_sid
        if app_sid:
            with self._provider() as gateway:
                gateway.update_twiml_app(app_sid, self._webhook_url(const.CLIENT_ROUTE))

    def _update_numbers_webhooks(self):
        """Point the account's numbers at the current public URL (after it changed).

        Idempotent: should this transaction be retried or fail, running it again sets the same
        URLs; the page's check says when numbers may still point elsewhere.
        """
        self.ensure_one()
        for number in self.sudo().number_ids.filtered('provider_sid'):
            with self._provider() as gateway:
                gateway.update_number(number.provider_sid, voice_url=self._webhook_url(const.VOICE_ROUTE),
                                      status_callback=self._webhook_url(const.STATUS_ROUTE))

    @api.model
    def _route_webhook(self, accounts, params):
        """Which of ``accounts`` (sharing one ``AccountSid``) a Twilio request belongs to: the one
        owning the call (or its parent call), the softphone user placing the call, the called
        number, or the caller ID being verified; an empty recordset when none does."""
        companies = accounts.company_id
        Call = self.env['telephony.call'].sudo()
        for call_sid in (params.get('CallSid'), params.get('ParentCallSid')):
            if call_sid:
                call = Call.search_fetch([('provider_sid', '=', call_sid), ('company_id', 'in', companies.ids)],
                                         ['company_id'], limit=1)
                if call:
                    return accounts.filtered(lambda account: account.company_id == call.company_id)[:1]
        caller = params.get('From') or ''
        if caller.startswith('client:'):  # a softphone placing a call: its user's company
            telephony_user = self.env['telephony.user']._from_client_identity(caller)
            return accounts.filtered(lambda account: account.company_id == telephony_user.company_id)[:1]
        for phone_number in {params.get('To'), params.get('Called')} - {None, ''}:
            number = self.env['telephony.number'].sudo().search_fetch(
                [('phone_number', '=', phone_number), ('account_id', 'in', accounts.ids)], ['account_id'], limit=1)
            if number:
                return accounts.filtered(lambda account: account == number.account_id)
        if params.get('CallSid'):
            caller_id = self.env['telephony.caller.id'].sudo().search_fetch(
                [('validation_call_sid', '=', params['CallSid'])], ['company_id'], limit=1)
            if caller_id:
                return accounts.filtered(lambda account: account.company_id == caller_id.company_id)[:1]
        return self.browse()

    @api.depends('webhook_base_url')
    def _compute_webhook_urls(self):
        for account in self:
            account.voice_webhook_url = account._webhook_url(const.VOICE_ROUTE)
            account.status_webhook_url = account._webhook_url(const.STATUS_ROUTE)
            account.client_webhook_url = account._webhook_url(const.CLIENT_ROUTE)

    def _compute_balance(self):
        totals = self.env['telephony.wallet.transaction']._balances(self)
        usd = self.env.ref('base.USD')
        for account in self:
            account.balance = totals.get(account.id, 0.0)
            account.balance_company_currency = usd._convert(
                account.balance, account.currency_id, account.company_id, fields.Date.context_today(account))

    def _get_balance(self):
        """The balance read from the database now (the ledger's sum), not the ORM cache."""
        self.ensure_one()
        return self.env['telephony.wallet.transaction']._balances(self).get(self.id, 0.0)

    @api.model
    def _usable_payment_tokens(self, company=None):
        """The saved payment methods that may pay for the credits of ``company`` (default: the
        current one), sudo: the company's own, and those saved while buying its credits on the
        payment page ("Save my payment details", I5), which belong to the buyer's partner."""
        company = company or self.env.company
        Token = self.env['payment.token'].sudo()
        saved_on_purchases = self.env['payment.transaction'].sudo().search([
            ('telephony_account_id.company_id', '=', company.id), ('token_id', '!=', False),
        ]).token_id
        return Token.search([
            '|', ('partner_id', '=', company.partner_id.id), ('id', 'in', saved_on_purchases.ids),
            ('provider_id.state', 'in', ('enabled', 'test')),
        ])

    @api.model
    def _selection_company_tokens(self):
        """``[(token id, name)]``: the saved payment methods that may pay for credits.

        Only telephony administrators see them (they choose what pays); for anyone else the
        selection is empty, so that ``fields_get`` does not list the company's cards.
        """
        if not (self.env.su or self.env.user.has_group(ADMIN_GROUP)):
            return []
        return [(str(token.id), '%s (%s)' % (token.display_name, token.provider_id.name))
                for token in self._usable_payment_tokens()]

    def _compute_has_payment_tokens(self):
        for account in self:
            account.has_payment_tokens = bool(self._usable_payment_tokens(account.company_id))

    def _compute_pending_purchases(self):
        Payment = self.env['payment.transaction'].sudo()
        for account in self:
            pending = Payment.search(Payment._telephony_pending_domain(account), order='id') if account.id else Payment
            account.pending_purchase_count = len(pending)
            account.pending_purchase_summary = "\n".join(_(
                "%(date)s: %(credits)s credits, %(amount)s %(currency)s (%(state)s, %(reference)s)",
                date=fields.Datetime.to_string(fields.Datetime.context_timestamp(account, tx.create_date))[:16],
                credits=formatLang(self.env, tx.telephony_credits),
                amount=formatLang(self.env, tx.amount, digits=tx.currency_id.decimal_places),
                currency=tx.currency_id.name,
                state=dict(tx._fields['state']._description_selection(self.env))[tx.state],
                reference=tx.reference) for tx in pending) or False

    @api.depends('auto_recharge_token_id')
    def _compute_auto_recharge_token_choice(self):
        for account in self:
            account.auto_recharge_token_choice = str(account.sudo().auto_recharge_token_id.id or '') or False

    def _inverse_auto_recharge_token_choice(self):
        for account in self:
            account.sudo().auto_recharge_token_id = int(account.auto_recharge_token_choice or 0) or False

    @api.depends('number_ids')
    def _compute_number_count(self):
        for account in self:
            account.number_count = len(account.number_ids)

    # ------------------------------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------------------------------

    @api.model
    def _get_for_company(self, company=None):
        """The account of ``company`` (default: the current one), created on first use."""
        company = company or self.env.company
        account = self.sudo().search([('company_id', '=', company.id)], limit=1)
        if not account:
            account = self.sudo().create({'company_id': company.id})
        return account.with_env(self.env)

    @api.model
    def action_open_account(self):
        """The Telephony menu: the Built-in Telephony page of the current company.

        Telephony administrators get the page; telephony users (salespeople who follow its
        address) get it with only what it is and who may open it; anyone else is told so.
        """
        if not self.env.user.has_group('builtin_telephony.group_telephony_user'):
            admins = self._get_for_company().sudo()._telephony_admins().filtered('active')
            raise UserError(_(
                "Built-in Telephony is where telephony administrators set up telephony: the "
                "provider, phone numbers, call flows, telephony users and credits. Only users with "
                "the Telephony / Administrator access right may open it; ask one of them (%(admins)s).",
                admins=", ".join(admins.sorted('name').mapped('name'))))
        account = self._get_for_company()
        return {
            'type': 'ir.actions.act_window',
            'name': _("Built-in Telephony"),
            'res_model': 'telephony.account',
            'res_id': account.id,
            'view_mode': 'form',
            'target': 'current',
        }

    def _webhook_url(self, route):
        self.ensure_one()
        base = self.sudo().webhook_base_url or self.env['ir.config_parameter'].sudo().get_param('web.base.url')
        return (base or '').rstrip('/') + route

    # ------------------------------------------------------------------------------------------
    # Provider
    # ------------------------------------------------------------------------------------------

    def _get_http_client(self):
        """The HTTP client the Twilio SDK uses; None means the SDK's own (tests plug Prism here)."""
        return None

    def _get_gateway(self):
        self.ensure_one()
        credentials = self.sudo()
        return get_gateway(
            self.provider, credentials.twilio_account_sid, credentials.twilio_auth_token,
            http_client=self._get_http_client())

    @contextmanager
    def _provider(self):
        """The provider's gateway (``tools/provider_gateway.ProviderGateway``); what it raises
        becomes a ``UserError`` saying what to do next, in the user's language::

            with account._provider() as gateway:
                found = gateway.search_numbers('US', 'local')
        """
        try:
            yield self._get_gateway()
        except TelephonyProviderError as error:
            raise UserError(error.translated(self.env)) from error

    def action_test_connection(self):
        self.ensure_one()
        self.check_access('write')
        with self._provider() as gateway:
            types = gateway.number_types(self.company_id.country_id.code or 'US')
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'title': _("Connected"),
                'message': _("The %(provider)s account answers; it offers %(count)s number types here.",
                             provider=self._fields['provider'].convert_to_export(self.provider, self),
                             count=len(types)),
            },
        }

    def _softphone_credentials(self):
        """(API key sid, API key secret, TwiML App sid) signing the softphone's access tokens.

        The sandbox signs with its own key (the auth token that signs its webhooks), under sids
        derived from the account, so its tokens look and verify like Twilio's.
        """
        self.ensure_one()
        account = self.sudo()
        if account.provider == 'sandbox':
            digest = hashlib.sha256(f'{account.twilio_account_sid}:softphone'.encode()).hexdigest()
            with account._provider() as gateway:
                app_sid = gateway.create_twiml_app('', self._webhook_url(const.CLIENT_ROUTE))
            return 'SK' + digest[:32], account.twilio_auth_token, app_sid
        if not (account.twilio_api_key_sid and account.twilio_api_key_secret
                and account.twilio_twiml_app_sid):
            raise UserError(_(
                "The softphone is not connected to Twilio yet: a telephony administrator must "
                "enter the API key, its secret and the TwiML App in Telephony > Built-in "
                "Telephony (Provider section)."))
        return (account.twilio_api_key_sid, account.twilio_api_key_secret,
                account.twilio_twiml_app_sid)

    def action_create_twiml_app(self):
        """Create the softphone's TwiML App at the provider, its voice URL pointing at this
        database's ``/telephony/twilio/client``, and keep its sid."""
        self.ensure_one()
        self.check_access('write')
        if not self.env.user.has_group(ADMIN_GROUP):
            raise UserError(_("Only telephony administrators can create the TwiML App."))
        with self._provider() as gateway:
            app_sid = gateway.create_twiml_app(
                _("Odoo softphone (%(company)s)", company=self.company_id.name),
                self._webhook_url(const.CLIENT_ROUTE))
        self.sudo().twilio_twiml_app_sid = app_sid
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'title': _("TwiML App created"),
                'message': _("Calls placed from the softphone now reach %(url)s.",
                             url=self._webhook_url(const.CLIENT_ROUTE)),
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }

    def available_number_types(self, country_code):
        """The number types (``local``/``mobile``/``toll_free``) offered in a country."""
        self.ensure_one()
        with self._provider() as gateway:
            return gateway.number_types(country_code.upper())

    def search_available_numbers(self, country_code, number_type, region=None, contains=None, limit=20):
        """Numbers that can be bought now, each with its monthly price in credits
        (``telephony.number._search_available``)."""
        self.ensure_one()
        found = self.env['telephony.number']._search_available(
            self, country_code, number_type, region=region, contains=contains, limit=limit)
        # Outside clients (XML-RPC) carry no None: a missing value is False.
        return [{key: False if value is None else value for key, value in number.items()} for number in found]

    def buy_number(self, phone_number, country_code, number_type, address_partner=None):
        """Buy ``phone_number`` for this account (``telephony.number._buy``).

        :return: the id of the new ``telephony.number``
        """
        self.ensure_one()
        return self.env['telephony.number']._buy(
            self, phone_number, country_code, number_type, address_partner=address_partner).id

    # ------------------------------------------------------------------------------------------
    # Wallet (requirements §5): the ledger, charges, top-ups
    # ------------------------------------------------------------------------------------------

    def _charge(self, kind, credits, reference, **values):
        """Take ``credits`` (positive) from the wallet, once per (kind, reference).

        :param kind: ``number``, ``call`` or ``storage``
        :param reference: what is paid for, e.g. a CallSid; a second charge with the same
            reference returns the first transaction and changes nothing
        :param values: other columns of the transaction (``date``, ``description``, ``call_id``…)
        :return: the ``telephony.wallet.transaction``
        """
        self.ensure_one()
        if kind not in DEBIT_KINDS:
            raise ValueError(f"{kind} is not a kind of charge")
        if credits < 0:
            raise ValueError("Charge a positive number of credits")
        transaction, created, recharge = self.env['telephony.wallet.transaction']._record(
            self, kind, -credits, reference, **values)
        if created and credits and recharge and recharge[0] < recharge[1]:
            self._wake_auto_recharge()
        return transaction

    def _charge_call(self, direction, phone_number, number_type, duration, reference, **values):
        """Rate ``duration`` seconds of a call (the destination of an outgoing call, our number
        for an incoming one, picks the rate; every started minute is paid) and debit them once
        per ``reference`` (kind ``call``): the calls' charge and the caller-ID verification calls'.

        :param values: other columns of the ledger line (``description``, ``call_id``…)
        :return: the ``telephony.wallet.transaction``; an empty recordset when nothing is due
            (0 seconds, a free destination); None when no rate matches (nothing is charged)
        """
        self.ensure_one()
        price = self.env['telephony.rate']._price_per_minute(direction, phone_number, number_type or 'local')
        if price is None:
            return None
        credits = rating.call_credits(price, duration)
        if not credits:
            return self.env['telephony.wallet.transaction']
        return self._charge('call', credits, reference, **values)

    def add_credits(self, credits, reference):
        """An administrator's top-up (kind ``adjustment``), once per reference.

        Public (XML-RPC, JSON-RPC): takes a finite positive number of credits and a reference,
        nothing else, and answers the id of the ledger line (the same id when retried).
        """
        self.ensure_one()
        self.check_access('write')
        if not (self.env.su or self.env.user.has_group(ADMIN_GROUP)):
            raise AccessError(_("Only telephony administrators can add credits by hand."))
        if isinstance(credits, bool) or not isinstance(credits, (int, float)) or not math.isfinite(credits) \
                or not 0 < credits <= MAX_ADJUSTMENT:
            raise UserError(_("Enter a number of credits between 0 and %s to add.",
                              formatLang(self.env, MAX_ADJUSTMENT, digits=0)))
        if not isinstance(reference, str) or not reference.strip() or len(reference) > 200:
            raise UserError(_("Give the top-up a reference (at most 200 characters): it makes a "
                              "retried top-up harmless."))
        return self._add_credits(credits, reference.strip()).id

    def _add_credits(self, credits, reference, kind='adjustment', **values):
        """Put ``credits`` in the wallet, once per (kind, reference): manual top-ups, and, as
        superuser, the payment of a credit purchase (``purchase``/``auto_recharge``, reference =
        the payment transaction's reference) and refunds.

        :return: the ``telephony.wallet.transaction``
        """
        self.ensure_one()
        if kind not in CREDIT_KINDS:
            raise ValueError(f"{kind} is not a kind of top-up")
        if not math.isfinite(credits) or credits <= 0:
            raise UserError(_("Enter a positive number of credits to add."))
        transaction, created, _recharge = self.env['telephony.wallet.transaction']._record(
            self, kind, credits, reference, **values)
        if created and self.sudo().credits_exhausted_notified:
            # The next shortage will be announced again.
            self.sudo().credits_exhausted_notified = False
        return transaction

    @api.model
    def _cron_settle_balances(self):
        """Settle every account's ledger, one committed transaction per account."""
        # Not in tests: they run in one transaction that must not be committed.
        commit = not getattr(threading.current_thread(), 'testing', False)
        for account in self.sudo().search([]):
            try:
                self.env['telephony.wallet.transaction']._settle(account)
                if commit:
                    self.env.cr.commit()
            except psycopg2.errors.SerializationFailure:
                if not commit:
                    raise
                # Its snapshot cannot be retried; the next run settles this account.
                self.env.cr.rollback()
                _logger.info("Telephony account %s: balance not settled this time (concurrent "
                             "update); the next run settles it.", account.id)

    # ------------------------------------------------------------------------------------------
    # Calls: rating, refusal when out of credits, time limits
    # ------------------------------------------------------------------------------------------

    def _available_credits(self):
        """The credits a new call may spend: the balance plus the overdraft allowed, less what
        the live calls have reserved (their time limit at their rate)."""
        self.ensure_one()
        return self._get_balance() + self.sudo().overdraft_limit - self._reserved_credits()

    def _reserved_credits(self):
        """What the live calls of the company may still spend; one indexed query."""
        self.ensure_one()
        self.env['telephony.call'].flush_model(['company_id', 'status', 'start_date', 'reserved_credits'])
        self.env.cr.execute(SQL(
            """SELECT COALESCE(SUM(reserved_credits), 0) FROM telephony_call
                WHERE company_id = %s AND reserved_credits > 0 AND status IN ('ringing', 'in_progress')
                  AND start_date >= %s""",
            self.company_id.id, fields.Datetime.now() - timedelta(seconds=rating.MAX_CALL_SECONDS)))
        return self.env.cr.fetchone()[0]

    def _call_allowance(self, direction, phone_number, number_type='local'):
        """``(seconds, credits reserved, refusal)`` of a new call: how long it may last with what
        the credits can pay (whole minutes, at most ``rating.MAX_CALL_SECONDS``), what that
        reserves, or why it is refused (``const.STEP_NO_RATE``: no rate, fail closed;
        ``const.STEP_NO_CREDIT``: not one minute, administrators are told once per shortage)."""
        self.ensure_one()
        price = self.env['telephony.rate']._price_per_minute(direction, phone_number, number_type)
        if price is None:
            _logger.warning("Telephony account %s: no %s call rate for %s; call refused",
                            self.id, direction, phone_number)
            return 0, 0.0, const.STEP_NO_RATE
        available = self._available_credits()
        seconds = rating.affordable_seconds(available, price) if available > 0 and available >= price else 0
        if not seconds:
            self._notify_credits_exhausted()
            return 0, 0.0, const.STEP_NO_CREDIT
        return seconds, price * seconds / 60, None

    def _has_credit_for_calls(self, direction='inbound', phone_number=None, number_type='local'):
        """Whether the credits (with the allowed overdraft, less the live calls' reservations)
        pay for one minute of a call at a known rate.

        When they do not, administrators are told once per shortage (a message on the account,
        sent to them); adding credits re-arms the notice.
        """
        return not self._call_allowance(direction, phone_number, number_type)[2]

    # ------------------------------------------------------------------------------------------
    # Auto-recharge (W4)
    # ------------------------------------------------------------------------------------------

    def action_view_purchase_history(self):
        """Credit purchase history (the "…" menu): date, purchasing user, credits (W7)."""
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'name': _("Credit purchase history"),
            'res_model': 'telephony.wallet.transaction',
            'view_mode': 'list',
            'views': [(self.env.ref('builtin_telephony.telephony_wallet_transaction_view_list_purchases').id, 'list')],
            'domain': [('account_id', '=', self.id), ('kind', 'in', ['purchase', 'auto_recharge', 'adjustment'])],
            'target': 'new',
            'context': {'create': False},
        }

    def action_view_transactions(self):
        """Every credit movement, as a list, a graph and a pivot by kind and period (W6)."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id(
            'builtin_telephony.telephony_wallet_transaction_action')
        action['domain'] = [('account_id', '=', self.id)]
        return action

    def get_credit_analytics(self, period='this_month', date_from=None, date_to=None):
        """Credits purchased and used in a period, with a series for the chart (the Plan details
        tab; ``telephony.wallet.transaction._credit_analytics``).

        (The credits available are the ``balance`` field shown beside the chart.)

        :param period: one of ``tools.wallet_periods.PERIODS``
        :param date_from: with ``custom``, first day (ISO date string), included
        :param date_to: with ``custom``, last day, included
        :return: ``{'purchased', 'used', 'date_from', 'date_to', 'bucket',
            'series': [{'label', 'purchased', 'used'}]}`` in credits
        """
        self.ensure_one()
        self.check_access('read')
        if not self.env.user.has_group(ADMIN_GROUP):
            raise UserError(_("Only telephony administrators see the credit analytics."))
        return self.env['telephony.wallet.transaction']._credit_analytics(
            self, period, date_from, date_to)

    def _auto_recharge_reference(self):
        """The payment reference of the recharge of the current shortage.

        It names the last credit line that arrived: every charge of one shortage computes the same
        reference, so they make one recharge at most (``payment.transaction.reference`` is
        unique); once credits arrive, a later shortage gets a new one. A failed recharge keeps its
        reference, so it is not retried until an administrator adds credits.
        """
        self.ensure_one()
        self.env.cr.execute(SQL(
            "SELECT COALESCE(MAX(id), 0) FROM telephony_wallet_transaction "
            "WHERE account_id = %s AND credits > 0", self.id))
        return 'TEL-AR-%s-%s' % (self.id, self.env.cr.fetchone()[0])

    def _needs_auto_recharge(self):
        self.ensure_one()
        return (self.auto_recharge and not self.partner_managed
                and self._get_balance() < self.auto_recharge_min)

    def _wake_auto_recharge(self):
        """The balance fell below the minimum: wake the recharge cron, unless this shortage's
        recharge already exists.

        The payment itself is made by the cron, outside the webhook or the charge that triggered
        it: a slow payment provider never delays a call, and a payment is never sent from a
        transaction that may still be rolled back.
        """
        self.ensure_one()
        reference = self._auto_recharge_reference()
        if not self.env['payment.transaction'].sudo().search_count([('reference', '=', reference)]):
            self.env.ref('builtin_telephony.ir_cron_telephony_auto_recharge').sudo()._trigger()

    @api.model
    def _cron_auto_recharge(self):
        """Recharge every account below its minimum (also catches what a trigger missed)."""
        accounts = self.sudo().search([('auto_recharge', '=', True), ('partner_managed', '=', False)])
        # Not in tests: they run in one transaction that must not be committed.
        commit = not getattr(threading.current_thread(), 'testing', False)
        for account in accounts:
            # One account's failure (a provider down, a broken token) stops no other account.
            try:
                if commit:
                    if account._needs_auto_recharge():
                        account._auto_recharge(commit=True)
                    self.env.cr.commit()
                else:
                    with self.env.cr.savepoint():
                        if account._needs_auto_recharge():
                            account._auto_recharge()
            except Exception:  # noqa: BLE001 -- logged; the next run tries again
                if commit:
                    self.env.cr.rollback()
                _logger.exception("Telephony account %s: auto-recharge failed", account.id)

    def _auto_recharge(self, commit=False):
        """Buy ``auto_recharge_amount`` credits with the saved token, once per shortage.

        :param commit: commit once the payment transaction is recorded and before the provider
            is asked for the money (the cron does), so that a crash cannot lose a payment
        :return: the ``payment.transaction`` of this shortage, or an empty recordset
        """
        self.ensure_one()
        account = self.sudo()
        PaymentTransaction = self.env['payment.transaction'].sudo()
        reference = account._auto_recharge_reference()
        existing = PaymentTransaction.search([('reference', '=', reference)])
        if existing:
            return existing
        if not account._needs_auto_recharge():
            # Credits arrived since the dip was seen (e.g. another worker's recharge of it):
            # the reference has moved on, but there is nothing to recharge.
            return PaymentTransaction
        token = account.auto_recharge_token_id
        if not token.active or token.provider_id.state not in ('enabled', 'test') \
                or token.partner_id != account.company_id.partner_id:
            account._notify_auto_recharge_failure(reference, _(
                "no saved payment method can be charged: choose one in the auto-recharge "
                "settings on the Plan details tab, or buy credits"))
            return PaymentTransaction
        try:
            with self.env.cr.savepoint():
                tx = PaymentTransaction.create(account._credit_payment_values(
                    account.auto_recharge_amount, 'auto_recharge', reference=reference,
                    provider=token.provider_id, partner=token.partner_id,
                    payment_method=token.payment_method_id, token=token, operation='offline'))
        except psycopg2.errors.UniqueViolation:
            # Another worker is recharging this shortage right now.
            return PaymentTransaction
        tx._telephony_charge_token(commit)
        return tx

    def _credit_payment_values(self, credits, kind, provider, partner, **values):
        """The values of a ``payment.transaction`` buying ``credits`` for this account."""
        self.ensure_one()
        currency = self.currency_id
        return dict(
            provider_id=provider.id,
            payment_method_id=values.pop('payment_method').id,
            token_id=values.pop('token').id,
            amount=self._credits_price(credits),
            currency_id=currency.id,
            partner_id=partner.id,
            telephony_account_id=self.id,
            telephony_credits=credits,
            telephony_kind=kind,
            **values,
        )

    def _credits_price(self, credits):
        """The price of ``credits`` in the company currency (1 credit = 1 USD; W1)."""
        self.ensure_one()
        return self.env.ref('base.USD')._convert(
            credits, self.currency_id, self.company_id, fields.Date.context_today(self))

    def _notify_auto_recharge_failure(self, reference, reason):
        """Tell administrators that the recharge of a shortage failed, once per shortage."""
        self.ensure_one()
        account = self.sudo()
        if account.auto_recharge_notified_reference == reference:
            return
        account.auto_recharge_notified_reference = reference
        account.message_post(
            subject=_("Auto-recharge failed"),
            body=_("%(credits)s credits could not be bought (%(reason)s). It will not be tried "
                   "again until credits are added.",
                   credits=formatLang(self.env, account.auto_recharge_amount),
                   reason=reason),
            partner_ids=account._telephony_admins().partner_id.ids,
            message_type='notification', subtype_xmlid='mail.mt_comment')

    def _telephony_admins(self):
        self.ensure_one()
        return self.env.ref(ADMIN_GROUP).sudo().users.filtered(
            lambda user: self.company_id in user.company_ids and not user.share)

    def _outbound_time_limit(self, to_number, number_type='local'):
        """Seconds of an outgoing call to ``to_number`` the credits can pay, 0 if not one minute.

        Given to ``<Dial timeLimit>`` so that a call cannot spend more than the wallet holds.
        """
        self.ensure_one()
        return self._call_allowance('outbound', to_number, number_type)[0]

    # ------------------------------------------------------------------------------------------
    # Spending limits of outgoing calls (B5): countries, daily limits, notices
    # ------------------------------------------------------------------------------------------

    def _outbound_countries(self):
        """The countries outgoing calls may reach (empty: no country is known to restrict)."""
        self.ensure_one()
        account = self.sudo()
        return account.allowed_country_ids or account.company_id.partner_id.country_id

    def _outbound_country_refusal(self, e164):
        """None when ``e164`` is in a country outgoing calls may reach, else the words that say
        it is not and who can allow it (China stays refused by ``_check_outbound_destination``)."""
        self.ensure_one()
        allowed = self._outbound_countries()
        code = country_code_of(e164)
        if not allowed or code in allowed.mapped('code'):
            return None
        country = self.env['res.country'].search([('code', '=', code)], limit=1)
        return _("Calls to %(country)s are not allowed from this company. A telephony "
                 "administrator (%(admins)s) can allow that country on the Built-in Telephony "
                 "page, Plan details tab.", country=country.name or e164,
                 admins=self._admin_names())

    def _admin_names(self):
        return ', '.join(self._telephony_admins()[:3].mapped('name')) or _("none yet")

    def _spend_day_bounds(self):
        """``(day, start)``: today in the company's time zone, and its first moment in UTC."""
        self.ensure_one()
        tz = pytz.timezone(self.sudo().company_id.partner_id.tz or 'UTC')
        local_now = pytz.utc.localize(fields.Datetime.now()).astimezone(tz)
        midnight = tz.localize(datetime.combine(local_now.date(), time.min))
        return local_now.date(), midnight.astimezone(pytz.utc).replace(tzinfo=None)

    def _outbound_spent(self, since, user=None):
        """Credits of the outgoing calls started ``since`` (of ``user``, a ``res.users``, when
        given): what ended calls were charged, plus what live calls reserved. One query."""
        self.ensure_one()
        self.env['telephony.call'].flush_model(
            ['company_id', 'direction', 'start_date', 'user_id', 'credits', 'reserved_credits',
             'end_date'])
        self.env.cr.execute(SQL(
            """SELECT COALESCE(SUM(COALESCE(credits, 0)
                                    + CASE WHEN end_date IS NULL THEN COALESCE(reserved_credits, 0)
                                           ELSE 0 END), 0)
                 FROM telephony_call
                WHERE company_id = %s AND direction = 'outbound' AND start_date >= %s %s""",
            self.company_id.id, since,
            SQL('AND user_id = %s', user.id) if user else SQL('')))
        return float(self.env.cr.fetchone()[0])

    def _spend_limits(self, telephony_user=None):
        """``[(scope, limit, user or None)]``: the daily limits an outgoing call of
        ``telephony_user`` is under (the company's, the user's), those that are set."""
        self.ensure_one()
        limits = []
        if self.sudo().daily_spend_limit > 0:
            limits.append((COMPANY_SCOPE, self.sudo().daily_spend_limit, None))
        if telephony_user and telephony_user.sudo().daily_spend_limit > 0:
            limits.append(('user-%s' % telephony_user.id, telephony_user.sudo().daily_spend_limit,
                           telephony_user.sudo().user_id))
        return limits

    def _limit_outbound_seconds(self, telephony_user, price, seconds):
        """``(seconds, refusal)``: how long an outgoing call of ``telephony_user`` at ``price``
        credits a minute may last under the daily limits, at most ``seconds`` (what the wallet
        allows); or 0 and the words that say which limit refuses it and who can raise it.

        Serialised per limit and day (``telephony.spend.day._serialise``): the caller stores the
        reservation (the time limit at its price) on the call in the same transaction.
        """
        self.ensure_one()
        limits = self._spend_limits(telephony_user)
        if not limits:
            return seconds, None
        day, since = self._spend_day_bounds()
        SpendDay = self.env['telephony.spend.day'].sudo()
        for scope, _limit, _user in limits:
            SpendDay._serialise(self, day, scope)
        for scope, limit, user in limits:
            room = limit - self._outbound_spent(since, user)
            allowed = rating.affordable_seconds(room, price) if room > 0 else 0
            if not allowed:
                self._notify_spend_level(day, scope, limit, user, 100)
                return 0, self._spend_refusal(limit, user)
            seconds = min(seconds, allowed)
        return seconds, None

    def _spend_refusal(self, limit, user=None):
        if user:
            return _("You have reached your daily limit of %(limit)s credits for outgoing calls. "
                     "A telephony administrator (%(admins)s) can raise it on your telephony user.",
                     limit=formatLang(self.env, limit), admins=self._admin_names())
        return _("Your company has reached its daily limit of %(limit)s credits for outgoing "
                 "calls. A telephony administrator (%(admins)s) can raise it on the Built-in "
                 "Telephony page, Plan details tab.", limit=formatLang(self.env, limit),
                 admins=self._admin_names())

    def _check_spend_levels(self, telephony_user=None):
        """After an outgoing call was charged: tell the administrators when a daily limit is
        80% or 100% spent (once per level, limit and day)."""
        self.ensure_one()
        limits = self._spend_limits(telephony_user)
        if not limits:
            return
        day, since = self._spend_day_bounds()
        for scope, limit, user in limits:
            spent = self._outbound_spent(since, user)
            for level in (100, 80):
                if spent >= limit * level / 100:
                    self._notify_spend_level(day, scope, limit, user, level, spent)
                    break

    def _notify_spend_level(self, day, scope, limit, user, level, spent=None):
        if not self.env['telephony.spend.day'].sudo()._raise_level(self, day, scope, level):
            return
        account = self.sudo()
        spent = account._outbound_spent(account._spend_day_bounds()[1], user) if spent is None else spent
        if user:
            subject = _("%(user)s: %(level)s%% of the daily limit of outgoing calls",
                        user=user.name, level=level)
            where = _("on the telephony user %(user)s", user=user.name)
        else:
            subject = _("%(level)s%% of the company's daily limit of outgoing calls", level=level)
            where = _("on the Plan details tab of Built-in Telephony")
        if level >= 100:
            consequence = _("Further outgoing calls are refused until tomorrow.")
        else:
            consequence = _("Calls are cut when they would pass it.")
        account.message_post(
            subject=subject,
            body=_("%(spent)s of %(limit)s credits spent on outgoing calls today (%(day)s). "
                   "%(consequence)s The limit can be raised %(where)s.",
                   spent=formatLang(self.env, spent), limit=formatLang(self.env, limit), day=day,
                   consequence=consequence, where=where),
            partner_ids=account._telephony_admins().partner_id.ids,
            message_type='notification', subtype_xmlid='mail.mt_comment')

    def _notify_credits_exhausted(self):
        self.ensure_one()
        account = self.sudo()
        if account.credits_exhausted_notified:
            return
        account.credits_exhausted_notified = True
        admins = account._telephony_admins()
        account.message_post(
            subject=_("Telephony credits have run out"),
            body=_("Calls that cost credits are refused: %(balance)s credits are left. Buy credits "
                   "on the Plan details tab of Built-in Telephony, or turn on auto-recharge.",
                   balance=formatLang(self.env, account._get_balance())),
            partner_ids=admins.partner_id.ids,
            message_type='notification', subtype_xmlid='mail.mt_comment')
    # ------------------------------------------------------------------------------------------
    # Recording storage (requirements R2, R3, R5)
    # ------------------------------------------------------------------------------------------

    @api.depends('storage_plan')
    def _compute_storage(self):
        used = self._storage_used_seconds()
        for account in self:
            account.storage_used_minutes = used.get(account.id, 0) / 60.0
            account.storage_limit_minutes = STORAGE_PLAN_MINUTES[account.storage_plan]

    def _storage_used_seconds(self):
        """``{account id: seconds of recordings stored}``: the sum of the recordings, one
        aggregate over the partial index of stored recordings."""
        if not self.ids:
            return {}
        self.env['telephony.recording'].flush_model(['company_id', 'state', 'duration'])
        self.env.cr.execute(SQL("""
            SELECT account.id, COALESCE(SUM(recording.duration), 0)
              FROM telephony_account account
              JOIN telephony_recording recording
                ON recording.company_id = account.company_id AND recording.state = 'stored'
             WHERE account.id IN %s
          GROUP BY account.id
        """, tuple(self.ids)))
        return dict(self.env.cr.fetchall())

    def _storage_fits(self, seconds):
        """Whether ``seconds`` more of recordings fit in the plan.

        Recordings are stored by the download job only, which Odoo runs on one worker at a time
        (ir.cron locks its row), so two recordings never race for the last minutes.
        """
        self.ensure_one()
        used = self._storage_used_seconds().get(self.id, 0)
        return used + seconds <= STORAGE_PLAN_MINUTES[self.storage_plan] * 60

    def _notify_storage_full(self):
        """Tell the administrators, once per filling, that recordings are no longer stored."""
        self.ensure_one()
        account = self.sudo()
        if account.storage_full_notified:
            return
        account.storage_full_notified = True
        account.message_post(
            subject=_("Recording storage is full"),
            body=_("New recordings are not stored: the %(limit)s minutes of the storage plan are "
                   "used. Choose a larger plan (Change storage plan in the page's actions menu) "
                   "or a shorter retention on the Plan details tab of Built-in Telephony.",
                   limit=formatLang(self.env, STORAGE_PLAN_MINUTES[account.storage_plan], digits=0)),
            partner_ids=account._telephony_admins().partner_id.ids,
            message_type='notification', subtype_xmlid='mail.mt_comment')

    def _rearm_storage_full_notice(self):
        """Room was made (a larger plan, recordings deleted): the next filling is announced."""
        for account in self.sudo().filtered('storage_full_notified'):
            used = account._storage_used_seconds().get(account.id, 0)
            if used < STORAGE_PLAN_MINUTES[account.storage_plan] * 60:
                account.storage_full_notified = False

    def _storage_plan_due(self, plan, date=None):
        """Credits to pay now for ``plan`` in the month of ``date``: its price, less what this
        month's storage already cost (a plan is paid once a month, at the highest plan held)."""
        self.ensure_one()
        month = (date or fields.Date.context_today(self)).strftime('%Y-%m')
        Transaction = self.env['telephony.wallet.transaction'].sudo()
        paid = -sum(Transaction.search([
            ('account_id', '=', self.id), ('kind', '=', 'storage'),
            ('reference', '=like', 'storage-%s%%' % month)]).mapped('credits'))
        return max(STORAGE_PLAN_PRICES[plan] - paid, 0.0), month

    def get_storage_plan_summary(self, plan):
        """The purchase summary of a change to ``plan`` (what ``set_storage_plan`` would do).

        :return: ``{'plan', 'plan_label', 'current_plan', 'monthly_price', 'due_now',
            'limit_minutes', 'used_minutes', 'balance', 'allowed', 'reason'}``
        """
        self.ensure_one()
        self.check_access('read')
        if plan not in STORAGE_PLAN_PRICES:
            raise UserError(_("Unknown storage plan %(plan)s: choose one of %(plans)s.",
                              plan=plan, plans=", ".join(STORAGE_PLAN_PRICES)))
        due, _month = self._storage_plan_due(plan)
        used = self._storage_used_seconds().get(self.id, 0) / 60.0
        limit = STORAGE_PLAN_MINUTES[plan]
        available = self._get_balance() + self.overdraft_limit
        reason = False
        if used > limit:
            reason = _("%(used)s minutes of recordings are stored, more than the %(limit)s "
                       "minutes of this plan. Delete recordings or keep a larger plan.",
                       used=formatLang(self.env, used, digits=0), limit=formatLang(self.env, limit, digits=0))
        elif due > available + 1e-9:
            reason = _("This plan costs %(due)s credits now and %(available)s credits are "
                       "available. Buy credits on the Plan details tab, then change the plan.",
                       due=formatLang(self.env, due), available=formatLang(self.env, max(available, 0.0)))
        return {
            'plan': plan,
            'plan_label': dict(self._fields['storage_plan']._description_selection(self.env))[plan],
            'current_plan': self.storage_plan,
            'monthly_price': STORAGE_PLAN_PRICES[plan],
            'due_now': due,
            'limit_minutes': limit,
            'used_minutes': round(used, 1),
            'balance': self._get_balance(),
            'allowed': not reason,
            'reason': reason,
        }

    def set_storage_plan(self, plan):
        """Change the recording storage plan (the purchase summary's confirmation, R2).

        Charges the new plan through the wallet now (its price less what this month's storage
        already cost; then monthly, by the storage cron). Refuses a plan smaller than the
        minutes stored, or one the credits cannot pay, saying why with the numbers.

        :return: ``{'plan', 'charged', 'storage_limit_minutes'}``
        """
        self.ensure_one()
        self.check_access('write')
        if not (self.env.su or self.env.user.has_group(ADMIN_GROUP)):
            raise UserError(_("Only telephony administrators can change the storage plan."))
        summary = self.get_storage_plan_summary(plan)
        if not summary['allowed']:
            raise UserError(summary['reason'])
        account = self.sudo()
        previous = account.storage_plan
        account.storage_plan = plan
        charged = 0.0
        if summary['due_now']:
            month = fields.Date.context_today(self).strftime('%Y-%m')
            account._charge(
                'storage', summary['due_now'], 'storage-%s-%s' % (month, plan),
                description=_("Recording storage plan %(plan)s, %(month)s",
                              plan=summary['plan_label'], month=month))
            charged = summary['due_now']
        if STORAGE_PLAN_MINUTES[plan] > STORAGE_PLAN_MINUTES[previous]:
            account._rearm_storage_full_notice()
        if plan != previous:
            account.message_post(body=_(
                "Recording storage plan changed to %(plan)s (%(charged)s credits charged now).",
                plan=summary['plan_label'], charged=formatLang(self.env, charged)))
        return {'plan': plan, 'charged': charged,
                'storage_limit_minutes': STORAGE_PLAN_MINUTES[plan]}

    def _charge_storage_plan(self, date=None):
        """Charge the recording storage plan for the month of ``date`` (default: today), once.

        The reference is the month: a plan is paid once a month whatever the number of runs; a
        month in which a plan was bought (``set_storage_plan``) is not paid twice.
        """
        self.ensure_one()
        due, month = self._storage_plan_due(self.storage_plan, date)
        if not due:
            return self.env['telephony.wallet.transaction']
        return self._charge(
            'storage', due, 'storage-%s' % month,
            description=_("Recording storage plan %(plan)s, %(month)s",
                          plan=self._fields['storage_plan'].convert_to_export(self.storage_plan, self),
                          month=month))

    @api.model
    def _cron_charge_storage_plans(self):
        for account in self.sudo().search([('storage_plan', '!=', 'free')]):
            account._charge_storage_plan()

    def get_storage_usage(self, months=12):
        """The Plan details' storage chart (R5): minutes stored against the plan, month by
        month, for the last ``months`` months (in the user's time zone).

        One aggregate over the partial index of stored recordings.

        :return: ``{'used_minutes', 'limit_minutes', 'plan', 'retention', 'series':
            [{'month': 'YYYY-MM', 'recorded': minutes of that month still stored,
              'used': minutes stored at the end of that month}]}``
        """
        self.ensure_one()
        self.check_access('read')
        months = max(1, min(int(months or 12), 120))
        tz = self.env.context.get('tz') or self.env.user.tz or 'UTC'
        first = fields.Date.context_today(self).replace(day=1) - relativedelta(months=months - 1)
        self.env['telephony.recording'].flush_model(['company_id', 'state', 'duration', 'date'])
        self.env.cr.execute(SQL("""
            SELECT CASE WHEN timezone(%(tz)s, timezone('UTC', date)) < %(first)s::timestamp
                        THEN 'before'
                        ELSE to_char(timezone(%(tz)s, timezone('UTC', date)), 'YYYY-MM') END,
                   SUM(duration)
              FROM telephony_recording
             WHERE company_id = %(company)s AND state = 'stored'
          GROUP BY 1
        """, tz=tz, first=first, company=self.company_id.id))
        by_month = dict(self.env.cr.fetchall())
        series, total = [], by_month.get('before', 0)
        for index in range(months):
            month = (first + relativedelta(months=index)).strftime('%Y-%m')
            seconds = by_month.get(month, 0)
            total += seconds
            series.append({'month': month, 'recorded': round(seconds / 60.0, 1),
                           'used': round(total / 60.0, 1)})
        # Recordings dated after this month (clock skew) still count as used.
        total = sum(by_month.values())
        return {
            'used_minutes': round(total / 60.0, 1),
            'limit_minutes': STORAGE_PLAN_MINUTES[self.storage_plan],
            'plan': self.storage_plan,
            'retention': self.recording_retention,
            'series': series,
        }
