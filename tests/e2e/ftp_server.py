"""An FTP server for the end-to-end test: pyftpdlib with three accounts, one of them a
default (admin/admin). Runs until killed."""
import os
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

address, root = sys.argv[1], sys.argv[2]
os.makedirs(root, exist_ok=True)
auth = DummyAuthorizer()
auth.add_user("admin", "admin", root)
auth.add_user("biomed", "Pump$ecret-77", root)
handler = FTPHandler
handler.authorizer = auth
handler.banner = "Ward E2E lab archive FTP ready"
handler.passive_ports = range(30000, 30010)
FTPServer((address, 21), handler).serve_forever()
