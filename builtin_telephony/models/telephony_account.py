import functools
import hashlib
import logging
import secrets
import threading
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools import rating, wallet_periods
from ..tools.gateways import get_gateway
from ..tools.provider_errors import TelephonyProviderError

_logger = logging.getLogger(__name__)

ADMIN_GROUP = 'builtin_telephony.group_telephony_admin'

# The routes Twilio calls; the numbers and the TwiML App are pointed at them (CONTRACTS.md).
VOICE_ROUTE = '/telephony/twilio/voice'
STATUS_ROUTE = '/telephony/twilio/status'
RECORDING_ROUTE = '/telephony/twilio/recording'
CLIENT_ROUTE = '/telephony/twilio/client'


DEBIT_KINDS = ('number', 'call', 'storage')
CREDIT_KINDS = ('purchase', 'auto_recharge', 'refund', 'adjustment')
# Credits per month of each recording storage plan (SPEC R2).
STORAGE_PLAN_PRICES = {'free': 0.0, '50k': 25.0, '200k': 50.0, '1m': 75.0}

# The balance of the telephony_account row aliased ``account``: what the hourly settling cron
# moved into ``settled_balance``, plus the ledger lines it has not settled yet, read from the
# partial index ``telephony_wallet_transaction_unsettled_index`` (so its cost follows the lines of
# the last hour, not the size of the ledger). Every balance read uses this expression.
BALANCE_SQL = SQL("""account.settled_balance + COALESCE((
    SELECT SUM(unsettled.credits) FROM telephony_wallet_transaction unsettled
     WHERE unsettled.account_id = account.id AND NOT unsettled.settled), 0)""")


@functools.lru_cache(maxsize=64)
def _ledger_insert_statement(names):
    """The statement of ``_record_transaction`` for these columns (besides account and company).

    Parameters: the account id, the values of ``names`` in order. Answers one row:
    ``(id of the new line or NULL, balance with it or NULL, auto-recharge minimum or NULL)``;
    both last are NULL unless auto-recharge watches the account. The balance (``BALANCE_SQL``)
    is read in the same snapshot as the INSERT, which it therefore does not see: the new line's
    credits are added.
    Built once per set of columns: composing it costs more than running it.
    """
    return SQL(
        """
        WITH account AS (
            SELECT id, company_id, auto_recharge_min, settled_balance,
                   auto_recharge AND NOT COALESCE(partner_managed, FALSE) AS watched
              FROM telephony_account WHERE id = %s
        ), line AS (
            INSERT INTO telephony_wallet_transaction (account_id, company_id, %s)
            SELECT account.id, account.company_id, %s FROM account
            ON CONFLICT (account_id, kind, reference) DO NOTHING
            RETURNING id, credits
        )
        SELECT line.id,
               CASE WHEN account.watched THEN COALESCE(line.credits, 0) + %s END,
               CASE WHEN account.watched THEN COALESCE(account.auto_recharge_min, 0) END
          FROM account LEFT JOIN line ON TRUE
        """,
        # Placeholders only: the values are given at each execution; ``.code`` drops these Nones.
        SQL('%s', None), SQL(', ').join(map(SQL.identifier, names)),
        SQL(', ').join(SQL('%s', None) for _name in names), BALANCE_SQL,
    ).code


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
        "Public URL",
        help="The public https address at which Twilio reaches this database, e.g. "
             "https://crm.example.com. Empty: the web.base.url system parameter.")
    # The browser softphone's access tokens (CONTRACTS.md): an API key signs them, the TwiML App
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
             "'Create the TwiML App' makes one pointing at this database.")
    voice_webhook_url = fields.Char("Voice URL", compute='_compute_webhook_urls')
    status_webhook_url = fields.Char("Status callback URL", compute='_compute_webhook_urls')
    client_webhook_url = fields.Char("TwiML App voice URL", compute='_compute_webhook_urls')

    balance = fields.Float(
        "Available credits", digits=(16, 4), compute='_compute_balance',
        help="1 credit = 1 USD. The sum of the credit transactions.")
    # Technical: the sum of the ledger lines already settled (see _settle_balance).
    settled_balance = fields.Float(digits=(16, 4), default=0.0, readonly=True, copy=False)
    balance_company_currency = fields.Monetary(
        "Available credits in company currency", compute='_compute_balance',
        currency_field='currency_id')
    overdraft_limit = fields.Float(
        "Allowed overdraft", digits=(16, 2), default=0.0, tracking=True,
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
                                             string="Credit transactions")
    storage_plan = fields.Selection(
        [('free', "Free (1,000 minutes)"), ('50k', "50,000 minutes"),
         ('200k', "200,000 minutes"), ('1m', "1,000,000 minutes")],
        required=True, default='free', tracking=True)
    recording_retention = fields.Selection(
        [('never', "Never delete"), ('3m', "After 3 months"), ('6m', "After 6 months")],
        required=True, default='never', tracking=True)
    auto_recharge = fields.Boolean(tracking=True)
    auto_recharge_min = fields.Float("Recharge below", digits=(16, 2), default=10.0)
    auto_recharge_amount = fields.Float("Credits to add", digits=(16, 2), default=50.0)
    auto_recharge_token_id = fields.Many2one(
        'payment.token', string="Pay with", tracking=True,
        domain="[('partner_id', '=', company_partner_id)]",
        help="A saved payment method of the company, charged for every auto-recharge.")
    company_partner_id = fields.Many2one(related='company_id.partner_id')
    # Payment tokens are readable by their owner only (payment's record rule); the company's
    # saved methods are offered to telephony administrators through this selection instead.
    auto_recharge_token_choice = fields.Selection(
        selection='_selection_company_tokens', string="Pay with ",
        compute='_compute_auto_recharge_token_choice', inverse='_inverse_auto_recharge_token_choice')
    auto_recharge_notified_reference = fields.Char(
        readonly=True, copy=False,
        help="The shortage for which administrators were last told that no auto-recharge "
             "could be made; they are told once per shortage.")

    # The tabs of the page (SPEC §1), each a list edited in place.
    number_ids = fields.One2many('telephony.number', 'account_id', string="Phone numbers")
    number_count = fields.Integer(compute='_compute_number_count')
    flow_ids = fields.One2many('telephony.flow', 'account_id', string="Call flows",
                               context={'active_test': False})  # enabling a flow again happens there
    telephony_user_ids = fields.One2many('telephony.user', 'account_id', string="Telephony users")
    telephony_group_ids = fields.One2many('telephony.group', 'account_id', string="Telephony groups")
    blocked_number_ids = fields.One2many('telephony.blocked.number', 'account_id',
                                         string="Block list")

    _sql_constraints = [
        ('company_uniq', 'unique(company_id)', "A company has one telephony account."),
    ]

    # ------------------------------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------------------------------

    @api.depends('webhook_base_url')
    def _compute_webhook_urls(self):
        for account in self:
            account.voice_webhook_url = account._webhook_url(VOICE_ROUTE)
            account.status_webhook_url = account._webhook_url(STATUS_ROUTE)
            account.client_webhook_url = account._webhook_url(CLIENT_ROUTE)

    def _compute_balance(self):
        totals = self._get_balances()
        usd = self.env.ref('base.USD')
        for account in self:
            account.balance = totals.get(account.id, 0.0)
            account.balance_company_currency = usd._convert(
                account.balance, account.currency_id, account.company_id, fields.Date.context_today(account))

    def _get_balances(self):
        """``{account id: balance}`` read from the database now (not the ORM cache).

        The balance is the sum of the ledger, so that it is exact however many workers charge at
        once (each charge is one INSERT; nothing else is updated). It is read as
        ``settled_balance`` plus the lines not settled yet (``BALANCE_SQL``), so that its cost
        does not grow with the ledger.
        """
        if not self.ids:
            return {}
        self.flush_recordset(['settled_balance'])
        self.env['telephony.wallet.transaction'].flush_model()
        self.env.cr.execute(self._balances_query())
        return dict(self.env.cr.fetchall())

    def _balances_query(self):
        return SQL("SELECT account.id, %s FROM telephony_account account WHERE account.id IN %s",
                   BALANCE_SQL, tuple(self.ids))

    def _get_balance(self):
        self.ensure_one()
        return self._get_balances().get(self.id, 0.0)

    @api.model
    def _selection_company_tokens(self):
        """``[(token id, name)]``: the saved payment methods of the current company's partner."""
        tokens = self.env['payment.token'].sudo().search([
            ('partner_id', '=', self.env.company.partner_id.id),
            ('provider_id.state', 'in', ('enabled', 'test')),
        ])
        return [(str(token.id), '%s (%s)' % (token.display_name, token.provider_id.name)) for token in tokens]

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
        """The Telephony menu: the Built-in Telephony page of the current company."""
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
        base = self.webhook_base_url or self.env['ir.config_parameter'].sudo().get_param('web.base.url')
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

    def _provider_call(self, method, *args, **kwargs):
        """Call ``method`` of the gateway; provider failures become a clear UserError."""
        try:
            return getattr(self._get_gateway(), method)(*args, **kwargs)
        except TelephonyProviderError as error:
            raise UserError(self.env._(error.template, **error.params)) from error

    def action_test_connection(self):
        self.ensure_one()
        self.check_access('write')
        types = self._provider_call('number_types', self.company_id.country_id.code or 'US')
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
            return ('SK' + digest[:32], account.twilio_auth_token,
                    account._provider_call('create_twiml_app', '', self._webhook_url(CLIENT_ROUTE)))
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
        app_sid = self._provider_call(
            'create_twiml_app', _("Odoo softphone (%(company)s)", company=self.company_id.name),
            self._webhook_url(CLIENT_ROUTE))
        self.sudo().twilio_twiml_app_sid = app_sid
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'title': _("TwiML App created"),
                'message': _("Calls placed from the softphone now reach %(url)s.",
                             url=self._webhook_url(CLIENT_ROUTE)),
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }

    def available_number_types(self, country_code):
        """The number types (``local``/``mobile``/``toll_free``) offered in a country."""
        self.ensure_one()
        return self._provider_call('number_types', country_code.upper())

    def search_available_numbers(self, country_code, number_type, region=None, contains=None, limit=20):
        """Numbers that can be bought now, each with its monthly price in credits (SPEC N1)."""
        self.ensure_one()
        self.check_access('write')
        country_code = country_code.upper()
        found = self._provider_call(
            'search_numbers', country_code, number_type, region=region or None,
            contains=contains or None, limit=limit)
        country = self.env['res.country'].search([('code', '=', country_code)], limit=1)
        price = self.env['telephony.number.price']._get_monthly_price(country, number_type)
        return [dict(number, monthly_price=price) for number in found]

    def buy_number(self, phone_number, country_code, number_type, address_partner=None):
        """Buy ``phone_number`` at the provider and point it at this database (SPEC N2).

        :param address_partner: the ``res.partner`` whose address is registered at the provider,
            for the numbers sold only to customers with an address on file (see the
            ``address_requirements`` of ``search_available_numbers``)
        :return: the id of the new ``telephony.number``
        """
        self.ensure_one()
        self.check_access('write')
        country = self.env['res.country'].search([('code', '=', country_code.upper())], limit=1)
        if not country:
            raise UserError(_("Unknown country code %s.", country_code))
        values = {
            'account_id': self.id,
            'country_id': country.id,
            'number_type': number_type,
            'monthly_price': self.env['telephony.number.price']._get_monthly_price(country, number_type),
        }
        self._check_can_buy_number(values)
        address_sid = address_partner and self._register_address(address_partner)
        purchased = self._provider_call(
            'buy_number', phone_number,
            voice_url=self._webhook_url(VOICE_ROUTE),
            status_callback=self._webhook_url(STATUS_ROUTE),
            friendly_name=self.company_id.name, address_sid=address_sid or None)
        try:
            with self.env.cr.savepoint():
                number = self.env['telephony.number'].create(dict(
                    values, phone_number=purchased['phone_number'], provider_sid=purchased['sid']))
                number._after_purchase()
        except Exception:
            # The provider sold us the number but we could not record it: give it back, so
            # that nothing is half-made (and nothing keeps costing money unseen).
            try:
                self._get_gateway().release_number(purchased['sid'])
            except TelephonyProviderError:
                _logger.exception("Could not release %s after a failed purchase", phone_number)
            raise
        self.message_post(body=_("Phone number %(number)s bought (%(price)s credits per month).",
                                 number=number.display_name, price=number.monthly_price))
        return number.id

    def _register_address(self, partner):
        """Register ``partner``'s address at the provider; returns the provider's address id."""
        missing = [label for label, value in ((_("street"), partner.street), (_("city"), partner.city),
                                              (_("ZIP"), partner.zip), (_("country"), partner.country_id))
                   if not value]
        if missing:
            raise UserError(_("Complete the address of %(partner)s (%(missing)s missing), then buy the number again.",
                              partner=partner.display_name, missing=", ".join(missing)))
        return self._provider_call(
            'create_address', partner.commercial_company_name or partner.name, partner.street,
            partner.city, partner.state_id.code or partner.city, partner.zip, partner.country_id.code)

    def _check_can_buy_number(self, values):
        """Refuse to buy a number whose first month the credits cannot pay (SPEC N2)."""
        self.ensure_one()
        price = values.get('monthly_price') or 0.0
        available = self._get_balance() + self.overdraft_limit
        if price > available + 1e-9:
            raise UserError(_(
                "This number costs %(price).2f credits for its first month, and %(available).2f "
                "credits are available. Buy credits on the Plan details tab, then buy the number.",
                price=price, available=max(available, 0.0)))
        return True

    # ------------------------------------------------------------------------------------------
    # Wallet (SPEC §5): the ledger, charges, top-ups
    # ------------------------------------------------------------------------------------------

    def _record_transaction(self, kind, signed_credits, reference, **values):
        """Insert one ledger line unless (account, kind, reference) already exists.

        ``INSERT … ON CONFLICT DO NOTHING`` on the unique index makes a retried callback, a payment
        notified twice or a cron run twice harmless, without a lock on any shared row. When a
        concurrent transaction commits the same reference after ours began, PostgreSQL raises a
        serialization failure and Odoo retries the request, which then finds the existing line.

        The same statement reads what the auto-recharge check needs (the account's settings and,
        when auto-recharge is on, the balance with this line), so that a charge is one round trip
        to the database (bench/bench_wallet.py).

        :return: ``(transaction, created, recharge)``; ``recharge`` is ``(balance, minimum)`` when
            auto-recharge watches this account, else None
        """
        self.ensure_one()
        Transaction = self.env['telephony.wallet.transaction'].sudo()
        # The statement reads the account's columns and sums the ledger in the database.
        self.flush_recordset(['company_id', 'auto_recharge', 'auto_recharge_min', 'partner_managed',
                              'settled_balance'])
        Transaction.flush_model(['account_id', 'credits'])
        now = fields.Datetime.now()
        columns = {
            'kind': kind,
            'credits': signed_credits,
            'credits_in': max(signed_credits, 0.0),
            'credits_out': max(-signed_credits, 0.0),
            'reference': str(reference),
            'settled': False,  # the column has no default in the database; NULL would not count
            'date': values.pop('date', None) or now,
            'user_id': values.pop('user_id', self.env.uid),
            'create_uid': self.env.uid, 'create_date': now,
            'write_uid': self.env.uid, 'write_date': now,
        }
        for name, value in values.items():
            field = Transaction._fields.get(name)
            if not field or not field.store or field.type in ('one2many', 'many2many') \
                    or name in ('account_id', 'company_id'):
                raise ValueError(f"{name} is not a column of telephony.wallet.transaction")
            columns[name] = value.id if isinstance(value, models.BaseModel) else value
        statement = _ledger_insert_statement(tuple(columns))
        self.env.cr.execute(statement, [self.id, *columns.values()])
        line_id, balance, minimum = self.env.cr.fetchone()
        self.invalidate_recordset(['balance', 'balance_company_currency', 'wallet_transaction_ids'])
        recharge = (balance, minimum) if balance is not None else None
        if line_id:
            return Transaction.browse(line_id), True, recharge
        return Transaction.search([
            ('account_id', '=', self.id), ('kind', '=', kind), ('reference', '=', str(reference)),
        ], limit=1), False, recharge

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
        transaction, created, recharge = self._record_transaction(kind, -credits, reference, **values)
        if created and credits and recharge and recharge[0] < recharge[1]:
            self._wake_auto_recharge()
        return transaction

    def add_credits(self, credits, reference, kind='adjustment', **values):
        """Put ``credits`` in the wallet, once per (kind, reference).

        Called by an administrator for a manual top-up (kind ``adjustment``) and, as superuser, by
        the payment of a credit purchase (``purchase``/``auto_recharge``, reference = the payment
        transaction's reference) and by refunds.

        :return: the ``telephony.wallet.transaction``
        """
        self.ensure_one()
        self.check_access('write')
        if kind not in CREDIT_KINDS:
            raise ValueError(f"{kind} is not a kind of top-up")
        if kind == 'adjustment' and not (self.env.su or self.env.user.has_group(ADMIN_GROUP)):
            raise UserError(_("Only telephony administrators can add credits by hand."))
        if credits <= 0:
            raise UserError(_("Enter a positive number of credits to add."))
        transaction, created, _recharge = self._record_transaction(kind, credits, reference, **values)
        if created and self.credits_exhausted_notified:
            # The next shortage will be announced again.
            self.sudo().credits_exhausted_notified = False
        return transaction

    def _settle_balance(self):
        """Move the ledger lines this transaction sees into ``settled_balance``; one statement.

        The balance does not change, only where its parts are read from. Under REPEATABLE READ
        the lines committed after this transaction began are not seen: they stay unsettled and
        keep counting, and those seen are settled and summed in one snapshot, so nothing is
        counted twice or lost. Charges only INSERT, so they never wait for it; the account row is
        written only when lines were settled. Should a concurrent write of that row (an
        administrator saving the form) make this fail, the transaction is rolled back whole and
        the next run settles.
        """
        self.ensure_one()
        self.flush_recordset(['settled_balance'])
        self.env['telephony.wallet.transaction'].flush_model(['account_id', 'credits', 'settled'])
        self.env.cr.execute(SQL("""
            WITH settled AS (
                UPDATE telephony_wallet_transaction SET settled = TRUE
                 WHERE account_id = %(account)s AND NOT settled
             RETURNING credits
            )
            UPDATE telephony_account
               SET settled_balance = settled_balance + (SELECT SUM(credits) FROM settled)
             WHERE id = %(account)s AND EXISTS (SELECT FROM settled)
        """, account=self.id))
        self.invalidate_recordset(['settled_balance', 'balance', 'balance_company_currency'])
        self.env['telephony.wallet.transaction'].invalidate_model(['settled'])

    @api.model
    def _cron_settle_balances(self):
        """Settle every account's ledger, one committed transaction per account."""
        # Not in tests: they run in one transaction that must not be committed.
        commit = not getattr(threading.current_thread(), 'testing', False)
        for account in self.sudo().search([]):
            try:
                account._settle_balance()
                if commit:
                    self.env.cr.commit()
            except psycopg2.errors.SerializationFailure:
                if not commit:
                    raise
                # Its snapshot cannot be retried; the next run settles this account.
                self.env.cr.rollback()
                _logger.info("Telephony account %s: balance not settled this time (concurrent "
                             "update); the next run settles it.", account.id)

    def _charge_storage_plan(self, date=None):
        """Charge the recording storage plan for the month of ``date`` (default: today), once.

        The reference is the month: a plan is paid once a month whatever the number of runs; a
        plan chosen during a month already paid is charged from the next month.
        """
        self.ensure_one()
        price = STORAGE_PLAN_PRICES.get(self.storage_plan, 0.0)
        if not price:
            return self.env['telephony.wallet.transaction']
        month = (date or fields.Date.context_today(self)).strftime('%Y-%m')
        return self._charge(
            'storage', price, 'storage-%s' % month,
            description=_("Recording storage plan %(plan)s, %(month)s",
                          plan=self._fields['storage_plan'].convert_to_export(self.storage_plan, self),
                          month=month))

    @api.model
    def _cron_charge_storage_plans(self):
        for account in self.sudo().search([('storage_plan', '!=', 'free')]):
            account._charge_storage_plan()

    # ------------------------------------------------------------------------------------------
    # Calls: rating, refusal when out of credits, time limits
    # ------------------------------------------------------------------------------------------

    def _available_credits(self):
        """The credits calls may still spend: the balance plus the overdraft allowed."""
        self.ensure_one()
        return self._get_balance() + self.overdraft_limit

    def _call_rate(self, direction, phone_number, number_type='local'):
        """The price per minute of a call, 0 when the rate table has no row for it."""
        rate = self.env['telephony.rate']._get_rate(direction, phone_number, number_type or 'local')
        return rate.price_per_minute if rate else 0.0

    def _charge_call(self, call):
        """Charge a finished call once (reference: its CallSid) and store its credits on it.

        The destination of an outgoing call, or our number for an incoming one, picks the rate;
        every started minute is paid. A call of 0 seconds costs nothing and leaves no line.

        :return: the ``telephony.wallet.transaction``, or an empty recordset when nothing is due
        """
        self.ensure_one()
        call = call.sudo()
        phone_number = call.to_number if call.direction == 'outbound' else (
            call.number_id.phone_number or call.to_number)
        price = self._call_rate(call.direction, phone_number, call.number_id.number_type or 'local')
        credits = rating.call_credits(price, call.duration)
        if not credits:
            if call.credits:
                return self.env['telephony.wallet.transaction']
            call.credits = 0.0
            return self.env['telephony.wallet.transaction']
        transaction = self._charge(
            'call', credits, call.provider_sid, call_id=call.id,
            description=_("%(direction)s call, %(minutes)s min to %(number)s",
                          direction=call._fields['direction'].convert_to_export(call.direction, call),
                          minutes=rating.billable_minutes(call.duration), number=phone_number))
        # A retried callback finds the first charge: the call keeps what was charged then.
        call.credits = -transaction.credits
        return transaction

    def _has_credit_for_calls(self, direction='inbound', phone_number=None, number_type='local'):
        """Whether the credits (with the allowed overdraft) pay for one minute of a call.

        When they do not, administrators are told once per shortage (a message on the account,
        sent to them); adding credits re-arms the notice.
        """
        self.ensure_one()
        price = self._call_rate(direction, phone_number, number_type)
        available = self._available_credits()
        if available > 0 and available >= price:
            return True
        self._notify_credits_exhausted()
        return False

    # ------------------------------------------------------------------------------------------
    # Auto-recharge (SPEC W4)
    # ------------------------------------------------------------------------------------------

    def action_view_purchase_history(self):
        """Credit purchase history (the "…" menu): date, purchasing user, credits (SPEC W7)."""
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
        """Every credit movement, as a list, a graph and a pivot by kind and period (SPEC W6)."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id(
            'builtin_telephony.telephony_wallet_transaction_action')
        action['domain'] = [('account_id', '=', self.id)]
        return action

    # Kinds counted as credits purchased / used by the analytics; a refund gives back used credits.
    PURCHASED_KINDS = ('purchase', 'auto_recharge', 'adjustment')
    USED_KINDS = ('number', 'call', 'storage', 'refund')

    def get_credit_analytics(self, period='this_month', date_from=None, date_to=None):
        """Credits purchased and used in a period, with a series for the chart (SPEC W6).

        (The credits available are the ``balance`` field shown beside the chart.)

        One query over the ledger's ``(account_id, date, kind, credits)`` index, whose cost is
        that of summing the period's lines (bench/bench_analytics.py).

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
        today = fields.Date.context_today(self)
        try:
            start, end = wallet_periods.period_range(
                period, today, fields.Date.to_date(date_from), fields.Date.to_date(date_to))
        except ValueError as error:
            raise UserError(_("Choose a period, or both dates of a custom range.")) from error
        bucket = wallet_periods.bucket_for(start, end)
        tz = self.env.user.tz or 'UTC'
        self.env['telephony.wallet.transaction'].flush_model(['account_id', 'date', 'kind', 'credits'])
        # One range scan of the (account_id, date, kind, credits) index per bar: the bars' bounds
        # are converted from the user's time zone once each, never a ledger line's date; the
        # week and month bars are labelled by their first day, even before the period's start.
        self.env.cr.execute(SQL(
            """
            SELECT bar.label::date, totals.purchased, totals.used
              FROM generate_series(date_trunc(%(bucket)s, %(start)s::timestamp),
                                   %(end)s::timestamp - interval '1 day', %(step)s::interval) AS bar(label),
           LATERAL (SELECT COUNT(*) AS lines,
                           COALESCE(SUM(credits) FILTER (WHERE kind IN %(purchased)s), 0) AS purchased,
                           COALESCE(-SUM(credits) FILTER (WHERE kind IN %(used)s), 0) AS used
                      FROM telephony_wallet_transaction
                     WHERE account_id = %(account)s
                       AND date >= timezone('UTC', timezone(%(tz)s, GREATEST(bar.label, %(start)s::timestamp)))
                       AND date < timezone('UTC', timezone(%(tz)s, LEAST(bar.label + %(step)s::interval,
                                                                         %(end)s::timestamp)))) AS totals
             WHERE totals.lines > 0
          ORDER BY 1
            """, bucket=bucket, step=f'1 {bucket}', tz=tz, purchased=self.PURCHASED_KINDS,
            used=self.USED_KINDS, account=self.id, start=start, end=end))
        rows = self.env.cr.fetchall()
        return {
            'purchased': sum(row[1] for row in rows),
            'used': sum(row[2] for row in rows),
            'date_from': fields.Date.to_string(start),
            'date_to': fields.Date.to_string(end - timedelta(days=1)),
            'bucket': bucket,
            'series': [{'label': fields.Date.to_string(day), 'purchased': purchased, 'used': used}
                       for day, purchased, used in rows],
        }

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
        for account in accounts:
            if account._needs_auto_recharge():
                # Not in tests: they run in one transaction that must not be committed.
                account._auto_recharge(commit=not getattr(threading.current_thread(), 'testing', False))

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
        if not token.active or token.provider_id.state not in ('enabled', 'test'):
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
        if commit:
            self.env.cr.commit()
        try:
            tx._send_payment_request()
        except UserError as error:
            tx._set_error(str(error))
        if tx.state in ('done', 'error', 'cancel') and not tx.is_post_processed:
            tx._post_process()
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
        """The price of ``credits`` in the company currency (1 credit = 1 USD; SPEC W1)."""
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
            body=_("%(credits).2f credits could not be bought (%(reason)s). It will not be tried "
                   "again until credits are added.", credits=account.auto_recharge_amount,
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
        available = self._available_credits()
        if available <= 0:
            return 0
        return rating.affordable_seconds(available, self._call_rate('outbound', to_number, number_type))

    def _notify_credits_exhausted(self):
        self.ensure_one()
        account = self.sudo()
        if account.credits_exhausted_notified:
            return
        account.credits_exhausted_notified = True
        admins = account._telephony_admins()
        account.message_post(
            subject=_("Telephony credits have run out"),
            body=_("Calls that cost credits are refused: %(balance).2f credits are left. Buy credits "
                   "on the Plan details tab of Built-in Telephony, or turn on auto-recharge.",
                   balance=account._get_balance()),
            partner_ids=admins.partner_id.ids,
            message_type='notification', subtype_xmlid='mail.mt_comment')
