#!/bin/sh
# Push orders from your own mall to BaoDan with curl: sh own_channel_push.sh BASE_URL SHOP SECRET FILE.json
set -eu
base_url=$1 shop=$2 secret=$3 file=$4
ts=$(date +%s)
sig=$( { printf '%s.' "$ts"; cat "$file"; } | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
curl -sS --fail-with-body -X POST "$base_url/webhooks/custom/$shop" \
  -H 'Content-Type: application/json' \
  -H "X-BaoDan-Timestamp: $ts" \
  -H "X-BaoDan-Signature: sha256=$sig" \
  --data-binary @"$file"
echo
