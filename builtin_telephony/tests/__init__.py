from . import test_flow_engine
from . import test_numbers
from . import test_numbers_tour
from . import test_sandbox_gateway
from . import test_security
from . import test_twilio_gateway
from . import test_uninstall
