from . import test_numbers
from . import test_security
