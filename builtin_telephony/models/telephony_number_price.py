from odoo import api, fields, models

from .. import const


class TelephonyNumberPrice(models.Model):
    """Monthly price of a number, in credits (1 credit = 1 USD), by country and type.

    A row without a country is the price for the countries not listed. The table is shared by
    every company of the database: only Settings administrators change it.
    """
    _name = 'telephony.number.price'
    _description = "Phone Number Price"
    _order = 'country_id, number_type'

    country_id = fields.Many2one('res.country', ondelete='cascade')
    number_type = fields.Selection(const.NUMBER_TYPES, required=True)
    monthly_price = fields.Float("Credits per month", digits=(16, 2), required=True)

    _sql_constraints = [
        ('country_type_uniq', 'unique(country_id, number_type)',
         "A country has one price per number type."),
        ('price_range', 'CHECK(monthly_price >= 0 AND monthly_price <= 1000)',
         "A number's monthly price is between 0 and 1,000 credits."),
    ]

    @api.model
    def _get_monthly_price(self, country, number_type):
        prices = self.sudo().search(
            [('number_type', '=', number_type), ('country_id', 'in', [country.id, False])])
        exact = prices.filtered('country_id')
        return (exact or prices)[:1].monthly_price
