from . import telephony_number_buy
