from odoo import fields, models

from .. import const


class TelephonyNumberType(models.Model):
    """Local, mobile, toll-free: a record each, so that a wizard can offer only the types a
    country has (a selection field cannot hide options per record)."""
    _name = 'telephony.number.type'
    _description = "Phone Number Type"
    _order = 'sequence, id'

    name = fields.Char(required=True, translate=True)
    code = fields.Selection(
        const.NUMBER_TYPES,
        required=True)
    sequence = fields.Integer(default=10)

    _sql_constraints = [('code_uniq', 'unique(code)', "A number type is defined once.")]
