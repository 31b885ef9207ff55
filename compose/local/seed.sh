#!/usr/bin/env bash
# seed.sh — demo data for `make run` (run.sh calls it once the gateway answers).
#   A demo organization `demo` whose admin gets a development token (until accounts can sign
#   in), a DingTalk robot on the local contract server, and a webhook to the local receiver.
# Needs: GATEWAY_URL, BIN_DIR, CONTRACTS_URL, DINGTALK_ROBOT_URL, GATEWAY_TOKEN_SECRET, CONVENE_STACK_DIR.
set -Eeuo pipefail

token_file="$CONVENE_STACK_DIR/demo-token"
GATEWAY_TOKEN_SECRET="$GATEWAY_TOKEN_SECRET" "$BIN_DIR/gateway" issue-token --account demo-admin \
    --organization demo --roles org_admin,user --email admin@demo.example --hours 12 >"$token_file"
chmod 600 "$token_file"
auth="Authorization: Bearer $(cat "$token_file")"

json_field() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# The robot: created in the (local) DingTalk first, then registered with Convene.
curl -fsS -o /dev/null -X POST "$CONTRACTS_URL/_admin/dingtalk/robots" -H 'Content-Type: application/json' \
    -d '{"accessToken": "demo-robot", "secret": "SECdemo-robot-secret"}'
robots="$(curl -fsS "$GATEWAY_URL/v1/organizations/demo/robots" -H "$auth")"
if [[ "$(json_field "['items'].__len__()" <<<"$robots")" == 0 ]]; then
    curl -fsS -o /dev/null -X POST "$GATEWAY_URL/v1/organizations/demo/robots" -H "$auth" -H 'Content-Type: application/json' \
        -d "{\"kind\": \"dingtalk\", \"name\": \"会务群机器人\", \"webhookUrl\": \"$DINGTALK_ROBOT_URL?access_token=demo-robot\", \"secret\": \"SECdemo-robot-secret\"}"
fi

# The webhook: Convene makes its secret; the receiver learns it.
webhooks="$(curl -fsS "$GATEWAY_URL/v1/organizations/demo/webhooks" -H "$auth")"
if [[ "$(json_field "['items'].__len__()" <<<"$webhooks")" == 0 ]]; then
    created="$(curl -fsS -X POST "$GATEWAY_URL/v1/organizations/demo/webhooks" -H "$auth" -H 'Content-Type: application/json' \
        -d "{\"url\": \"$CONTRACTS_URL/hooks/demo\", \"eventTypes\": [\"registration.*\", \"payment.*\", \"scheduling.*\"], \"description\": \"demo receiver\"}")"
    secret="$(json_field "['secret']" <<<"$created")"
    curl -fsS -o /dev/null -X POST "$CONTRACTS_URL/_admin/webhooks/endpoints" -H 'Content-Type: application/json' \
        -d "{\"name\": \"demo\", \"secret\": \"$secret\"}"
fi

cat >&2 <<MSG
  Demo organization "demo": its admin's token (12 h) is in $token_file
    curl -H "Authorization: Bearer \$(cat $token_file)" $GATEWAY_URL/v1/me/inbox
    curl -H "Authorization: Bearer \$(cat $token_file)" $GATEWAY_URL/v1/organizations/demo/robots
    curl -H "Authorization: Bearer \$(cat $token_file)" $GATEWAY_URL/v1/organizations/demo/webhooks
MSG
