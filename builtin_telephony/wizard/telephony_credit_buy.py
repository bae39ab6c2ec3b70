import secrets

from werkzeug.urls import url_encode

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.tools import hmac as hmac_tool

MAX_CREDITS_PER_PURCHASE = 100_000


class TelephonyCreditBuy(models.TransientModel):
    """Buy credits: enter how many, see the price in the company currency, pay (W2).

    With a saved payment method of the company the payment is made at once; otherwise the
    buyer is sent to Odoo's payment page (``/payment/pay``) with any enabled provider. Either way
    the credits arrive when the payment transaction is done (``payment.transaction._post_process``).
    """
    _name = 'telephony.credit.buy'
    _description = "Buy Telephony Credits"

    account_id = fields.Many2one('telephony.account', required=True, readonly=True, ondelete='cascade',
                                 default=lambda self: self.env['telephony.account']._get_for_company())
    company_id = fields.Many2one(related='account_id.company_id')
    company_partner_id = fields.Many2one(related='company_id.partner_id')
    currency_id = fields.Many2one(related='account_id.currency_id')
    balance = fields.Float(related='account_id.balance')
    credits = fields.Float("Credits to buy", digits=(16, 2), required=True, default=50.0,
                           help="1 credit = 1 USD.")
    price = fields.Monetary("Price", compute='_compute_price', currency_field='currency_id')
    token_choice = fields.Selection(
        selection=lambda self: self.env['telephony.account']._selection_company_tokens(),
        string="Saved payment method",
        help="Pay now with a payment method the company saved. Empty: pay on the payment page.")
    payment_reference = fields.Char(
        readonly=True, copy=False, default=lambda self: 'TELCR-%s' % secrets.token_hex(6),
        help="Prefix of the reference of the payment; ties the payment to this purchase.")

    @api.depends('credits', 'account_id')
    def _compute_price(self):
        for wizard in self:
            wizard.price = wizard.account_id._credits_price(max(wizard.credits, 0.0)) if wizard.account_id else 0.0

    def _check_credits(self):
        self.ensure_one()
        self.account_id.check_access('write')
        if self.credits < 1:
            raise UserError(_("Enter at least 1 credit to buy."))
        if self.credits > MAX_CREDITS_PER_PURCHASE:
            raise UserError(_("Buy at most %s credits at a time; make several purchases for more.",
                              MAX_CREDITS_PER_PURCHASE))

    def action_pay(self):
        """Pay with the saved payment method, or open the payment page."""
        self.ensure_one()
        self._check_credits()
        if self.token_choice:
            return self._pay_with_token()
        partner = self.company_id.partner_id
        params = {
            'reference': self.payment_reference,
            'amount': self.price,
            'currency_id': self.currency_id.id,
            'partner_id': partner.id,
            'company_id': self.company_id.id,
            'access_token': self._payment_access_token(partner.id, self.price, self.currency_id.id),
        }
        return {'type': 'ir.actions.act_url', 'url': '/payment/pay?' + url_encode(params), 'target': 'self'}

    def _payment_access_token(self, *values):
        # The token payment_utils.generate_access_token makes, from our environment rather than
        # from the HTTP request's, so that it is also made where there is no request (tests).
        return hmac_tool(self.env(su=True), 'generate_access_token', '|'.join(str(value) for value in values))

    def _pay_with_token(self):
        account = self.account_id.sudo()
        token = self.env['payment.token'].sudo().browse(int(self.token_choice))
        if token.partner_id != self.company_id.partner_id:
            raise UserError(_("Choose one of the company's saved payment methods."))
        tx = self.env['payment.transaction'].sudo().create(account._credit_payment_values(
            self.credits, 'purchase', provider=token.provider_id, partner=token.partner_id,
            payment_method=token.payment_method_id, token=token, operation='offline',
            reference=self.env['payment.transaction']._compute_reference(
                token.provider_id.code, prefix=self.payment_reference)))
        try:
            tx._send_payment_request()
        except UserError as error:
            tx._set_error(str(error))
        if not tx.is_post_processed:
            tx._post_process()
        if tx.state != 'done':
            raise UserError(_(
                "The payment of %(credits).2f credits did not go through (%(state)s): %(reason)s "
                "Try another payment method, or leave it empty to pay on the payment page.",
                credits=self.credits, state=tx._fields['state'].convert_to_export(tx.state, tx),
                reason=tx.state_message or ''))
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'title': _("Credits bought"),
                'message': _("%(credits).2f credits were added to your wallet.", credits=self.credits),
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }

    @api.model
    def _purchase_values_for_reference(self, reference, amount, currency_id):
        """The telephony values of a payment whose reference was made from a purchase here.

        The payment page computes the reference from our prefix (``TELCR-xxxx`` or
        ``TELCR-xxxx-1`` when retried); the amount must be the one the wizard priced.
        """
        prefix = '-'.join((reference or '').split('-')[:2])
        if not prefix.startswith('TELCR-'):
            return {}
        wizard = self.sudo().search([('payment_reference', '=', prefix)], limit=1)
        if not wizard or wizard.currency_id.id != currency_id or \
                wizard.currency_id.compare_amounts(wizard.price, amount) != 0:
            return {}
        return {'telephony_account_id': wizard.account_id.id, 'telephony_credits': wizard.credits,
                'telephony_kind': 'purchase'}
