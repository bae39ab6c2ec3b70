from odoo import _
from odoo.exceptions import ValidationError
from odoo.http import request, route

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.controllers import portal as payment_portal


class TelephonyPaymentPortal(payment_portal.PaymentPortal):
    """Credit purchases on Odoo's payment page, tied to their payment as ``account_payment`` ties
    an invoice: the page's transaction route creates the payment with the purchase in its
    ``custom_create_values`` (telephony.credit.buy.action_pay signs the purchase)."""

    def _get_extra_payment_form_values(self, telephony_account_id=None, telephony_credits=None,
                                       telephony_access_token=None, **kwargs):
        form_values = super()._get_extra_payment_form_values(**kwargs)
        if telephony_account_id:
            account_id = self._cast_as_int(telephony_account_id)
            request.env['telephony.credit.buy']._check_purchase(
                account_id, telephony_credits, telephony_access_token, kwargs.get('amount'),
                kwargs.get('currency_id'))
            form_values['transaction_route'] = (
                f'/telephony/credits/transaction/{account_id}/{telephony_credits}/{telephony_access_token}')
        return form_values

    @route('/telephony/credits/transaction/<int:account_id>/<string:credits>/<string:purchase_token>',
           type='json', auth='user')
    def telephony_credits_transaction(self, account_id, credits, purchase_token, amount, access_token,
                                      **kwargs):
        """The payment page's transaction route for a credit purchase: a draft payment tied to it.

        Like ``account_payment``'s invoice route, the partner is the logged-in user's (the page
        pays as them) and the currency the purchase's; the amount and the credits must be the ones
        signed when the purchase was quoted.
        """
        amount = amount and float(amount)  # the JS may strip the '.0'
        account = request.env['telephony.account'].browse(account_id)
        currency_id = account.currency_id.id
        partner_id = request.env.user.partner_id.id
        if not payment_utils.check_access_token(access_token, partner_id, amount, currency_id):
            raise ValidationError(_("The access token is invalid."))
        purchase_values = request.env['telephony.credit.buy']._check_purchase(
            account_id, credits, purchase_token, amount, currency_id)
        self._validate_transaction_kwargs(kwargs)
        tx_sudo = self._create_transaction(
            amount=amount, currency_id=currency_id, partner_id=partner_id,
            reference_prefix=f'TELCR-{account_id}', custom_create_values=purchase_values, **kwargs)
        self._update_landing_route(tx_sudo, access_token)
        return tx_sudo._get_processing_values()
