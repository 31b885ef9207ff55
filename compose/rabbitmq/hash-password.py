#!/usr/bin/env python3
"""Print a RabbitMQ password hash for definitions.json (rabbit_password_hashing_sha256).

    python3 compose/rabbitmq/hash-password.py 'new password'

The hash is base64(salt + sha256(salt + password)) with a random 4-byte salt,
the format RabbitMQ itself stores. Put it in the user's "password_hash" in
compose/rabbitmq/definitions.json and set RABBITMQ_PASSWORD to the same password:
definitions are re-imported on every broker start, so a password changed with
rabbitmqctl would be reset to the one in the file.
"""
import base64
import hashlib
import os
import sys

if len(sys.argv) != 2:
    sys.exit(__doc__)
salt = os.urandom(4)
digest = hashlib.sha256(salt + sys.argv[1].encode("utf-8")).digest()
print(base64.b64encode(salt + digest).decode("ascii"))
