import logging
import secrets

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools.gateways import get_gateway
from ..tools.provider_errors import TelephonyProviderError

_logger = logging.getLogger(__name__)

ADMIN_GROUP = 'builtin_telephony.group_telephony_admin'

# The routes Twilio calls; the numbers and the TwiML App are pointed at them (CONTRACTS.md).
VOICE_ROUTE = '/telephony/twilio/voice'
STATUS_ROUTE = '/telephony/twilio/status'
RECORDING_ROUTE = '/telephony/twilio/recording'
CLIENT_ROUTE = '/telephony/twilio/client'


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
    voice_webhook_url = fields.Char("Voice URL", compute='_compute_webhook_urls')
    status_webhook_url = fields.Char("Status callback URL", compute='_compute_webhook_urls')
    client_webhook_url = fields.Char("TwiML App voice URL", compute='_compute_webhook_urls')

    balance = fields.Float(
        "Available credits", digits=(16, 4), compute='_compute_balance',
        help="1 credit = 1 USD. The sum of the credit transactions.")
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

    number_ids = fields.One2many('telephony.number', 'account_id', string="Phone numbers")
    number_count = fields.Integer(compute='_compute_number_count')

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
        totals = dict(self.env['telephony.wallet.transaction'].sudo()._read_group(
            [('account_id', 'in', self.ids)], ['account_id'], ['credits:sum']))
        for account in self:
            account.balance = totals.get(account, 0.0)

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
                             provider=dict(self._fields['provider'].selection)[self.provider],
                             count=len(types)),
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

    def buy_number(self, phone_number, country_code, number_type):
        """Buy ``phone_number`` at the provider and point it at this database (SPEC N2).

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
        purchased = self._provider_call(
            'buy_number', phone_number,
            voice_url=self._webhook_url(VOICE_ROUTE),
            status_callback=self._webhook_url(STATUS_ROUTE),
            friendly_name=self.company_id.name)
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

    def _check_can_buy_number(self, values):
        """Hook run before the provider is asked to sell a number (e.g. enough credits)."""
        return True
