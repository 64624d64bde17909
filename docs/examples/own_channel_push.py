"""Push orders from your own mall (微信小程序 / 独立站) to BaoDan: python own_channel_push.py BASE_URL SHOP SECRET FILE.json

Standard library only. FILE.json holds {"orders": [...]} in the canonical order shape
(docs/canonical-order.md); every order's "channel" is "custom" and its "shop" is SHOP.
"""

import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request


def signed_headers(secret: str, body: bytes) -> dict:
    timestamp = str(int(time.time()))
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-BaoDan-Timestamp": timestamp,
            "X-BaoDan-Signature": "sha256=" + mac}


def push(base_url: str, shop: str, secret: str, body: bytes) -> dict:
    request = urllib.request.Request(f"{base_url}/webhooks/custom/{shop}", data=body, method="POST",
                                     headers=signed_headers(secret, body))
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)  # {"accepted": n, "duplicates": m}
    except urllib.error.HTTPError as error:  # 401 webhook.*, 422 request.invalid, ...: {"code", "message"}
        raise SystemExit(f"refused ({error.code}): {error.read().decode()}") from None


if __name__ == "__main__":
    base_url, shop, secret, path = sys.argv[1:5]
    with open(path, "rb") as f:
        print(push(base_url, shop, secret, f.read()))
