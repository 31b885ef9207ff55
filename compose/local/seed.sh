#!/usr/bin/env bash
# seed.sh — demo data for `make run` (run.sh calls it once the gateway answers):
#   accounts (an administrator, made a system admin on the host, and a participant), the
#   organization `demo`, a published conference open for registration with paid and free
#   categories, a DingTalk robot on the local contract server and a webhook to its receiver, and
#   the organization's Zoom, Tencent Meeting and DingTalk apps (at the contract server).
# Needs: GATEWAY_URL, BIN_DIR, CONTRACTS_URL, DINGTALK_ROBOT_URL, GATEWAY_DATABASE_URL, AMQP_URL,
#        CONVENE_STACK_DIR. Running it again changes nothing that exists.
set -Eeuo pipefail

PASSWORD="convene-demo-2026"
ADMIN=admin@demo.example
PARTICIPANT=participant@demo.example

json_field() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# call METHOD PATH [TOKEN] [JSON] → body on stdout; the status in $STATUS.
call() {
    local method="$1" path="$2" token="${3:-}" body="${4:-}" out
    local -a args=(-sS -X "$method" "$GATEWAY_URL$path" -w '\n%{http_code}')
    [[ -n "$token" ]] && args+=(-H "Authorization: Bearer $token")
    [[ -n "$body" ]] && args+=(-H 'Content-Type: application/json' -d "$body")
    out="$(curl "${args[@]}")"
    STATUS="${out##*$'\n'}"
    printf '%s' "${out%$'\n'*}"
}
expect() { [[ " $* " == *" $STATUS "* ]] || { echo "seed: unexpected HTTP $STATUS" >&2; exit 1; }; }
sign_up() {
    call POST /v1/accounts "" "{\"email\": \"$1\", \"password\": \"$PASSWORD\", \"name\": \"$2\", \"locale\": \"zh-CN\"}" >/dev/null
    expect 201 409
}
sign_in() {   # sign_in EMAIL [ORGANIZATION] → access token
    local organization="${2:+, \"organizationId\": \"$2\"}"
    call POST /v1/auth/login "" "{\"email\": \"$1\", \"password\": \"$PASSWORD\"$organization}" | json_field "['accessToken']"
}

# Accounts. The first system admin is granted on the host: nobody could approve it.
sign_up "$ADMIN" "演示管理员"
sign_up "$PARTICIPANT" "韩梅梅"
DATABASE_URL="$GATEWAY_DATABASE_URL" AMQP_URL="$AMQP_URL" "$BIN_DIR/gateway" grant-system-admin --email "$ADMIN" >/dev/null

# The organization, with the admin as its administrator.
root="$(sign_in "$ADMIN")"
call POST /v1/organizations "$root" "{\"id\": \"demo\", \"name\": \"Convene 演示学会\", \"adminEmail\": \"$ADMIN\"}" >/dev/null
expect 201 409
admin="$(sign_in "$ADMIN" demo)"
participant="$(sign_in "$PARTICIPANT")"
umask 077
printf '%s\n' "$admin" >"$CONVENE_STACK_DIR/demo-token"
printf '%s\n' "$participant" >"$CONVENE_STACK_DIR/participant-token"

# A conference open for registration: paid categories (every payment method) and a free one.
conferences="$(call GET /v1/organizations/demo/conferences "$admin")"
if [[ "$(json_field "['items'].__len__()" <<<"$conferences")" == 0 ]]; then
    iso() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
    conference="$(call POST /v1/organizations/demo/conferences "$admin" "{
        \"title\": \"2027 全国学术年会 / National Annual Meeting 2027\",
        \"description\": \"演示会议：报名、审核、缴费与通知。\", \"startsAt\": \"$(iso '+60 days 01:00')\",
        \"endsAt\": \"$(iso '+62 days 09:00')\", \"timeZone\": \"Asia/Shanghai\", \"venue\": \"北京国际会议中心\",
        \"registrationOpensAt\": \"$(iso '-1 hour')\", \"registrationClosesAt\": \"$(iso '+55 days')\",
        \"languages\": [\"zh-CN\", \"en\"], \"contactEmail\": \"meeting@demo.example\"}" | json_field "['id']")"
    expect 201
    call POST "/v1/organizations/demo/conferences/$conference/publish" "$admin" '{}' >/dev/null
    expect 200
    settings="{
        \"form\": {\"fields\": [
            {\"key\": \"affiliation\", \"type\": \"text\", \"label\": {\"zh-CN\": \"工作单位\", \"en\": \"Affiliation\"}, \"required\": true},
            {\"key\": \"title\", \"type\": \"singleChoice\", \"label\": {\"zh-CN\": \"职称\", \"en\": \"Title\"},
             \"options\": [{\"value\": \"professor\", \"label\": {\"zh-CN\": \"教授\", \"en\": \"Professor\"}},
                           {\"value\": \"student\", \"label\": {\"zh-CN\": \"学生\", \"en\": \"Student\"}}]},
            {\"key\": \"country\", \"type\": \"country\", \"label\": {\"zh-CN\": \"国家或地区\", \"en\": \"Country or region\"}}]},
        \"categories\": [
            {\"key\": \"regular\", \"names\": {\"zh-CN\": \"正式代表\", \"en\": \"Regular\"}, \"capacity\": 300,
             \"fee\": {\"regular\": {\"amountMinor\": 128000, \"currency\": \"CNY\"},
                       \"earlyBird\": {\"price\": {\"amountMinor\": 98000, \"currency\": \"CNY\"}, \"until\": \"$(iso '+14 days')\"}}},
            {\"key\": \"student\", \"names\": {\"zh-CN\": \"学生代表\", \"en\": \"Student\"}, \"capacity\": 100,
             \"fee\": {\"regular\": {\"amountMinor\": 48000, \"currency\": \"CNY\"}}},
            {\"key\": \"speaker\", \"names\": {\"zh-CN\": \"特邀报告人\", \"en\": \"Invited speaker\"},
             \"fee\": {\"regular\": {\"amountMinor\": 0, \"currency\": \"CNY\"}}}],
        \"overallCapacity\": 400, \"reviewRequired\": false, \"waitlistEnabled\": true, \"offerValidityHours\": 48,
        \"paymentWindowMinutes\": 30, \"paymentMethods\": [\"wechat_pay\", \"alipay\", \"stripe\", \"bank_transfer\"],
        \"refundPolicy\": {\"tiers\": [{\"until\": \"$(iso '+30 days')\", \"percent\": 100}, {\"until\": \"$(iso '+53 days')\", \"percent\": 50}], \"afterwardsBasisPoints\": 0}}"
    # Registration learns of the conference from scheduling's event.
    for _ in $(seq 1 50); do
        call PUT "/v1/organizations/demo/conferences/$conference/registration-settings" "$admin" "$settings" >/dev/null
        [[ "$STATUS" == 200 ]] && break
        sleep 0.2
    done
    expect 200
else
    conference="$(json_field "['items'][0]['id']" <<<"$conferences")"
fi
printf '%s\n' "$conference" >"$CONVENE_STACK_DIR/demo-conference"

# The robot: created in the (local) DingTalk first, then registered with Convene.
curl -fsS -o /dev/null -X POST "$CONTRACTS_URL/_admin/dingtalk/robots" -H 'Content-Type: application/json' \
    -d '{"accessToken": "demo-robot", "secret": "SECdemo-robot-secret"}'
robots="$(call GET /v1/organizations/demo/robots "$admin")"
if [[ "$(json_field "['items'].__len__()" <<<"$robots")" == 0 ]]; then
    call POST /v1/organizations/demo/robots "$admin" \
        "{\"kind\": \"dingtalk\", \"name\": \"会务群机器人\", \"webhookUrl\": \"$DINGTALK_ROBOT_URL?access_token=demo-robot\", \"secret\": \"SECdemo-robot-secret\"}" >/dev/null
    expect 201
fi

# The webhook: Convene makes its secret; the receiver learns it.
webhooks="$(call GET /v1/organizations/demo/webhooks "$admin")"
if [[ "$(json_field "['items'].__len__()" <<<"$webhooks")" == 0 ]]; then
    created="$(call POST /v1/organizations/demo/webhooks "$admin" \
        "{\"url\": \"$CONTRACTS_URL/hooks/demo\", \"eventTypes\": [\"registration.*\", \"payment.*\", \"scheduling.*\"], \"description\": \"demo receiver\"}")"
    expect 201
    secret="$(json_field "['secret']" <<<"$created")"
    curl -fsS -o /dev/null -X POST "$CONTRACTS_URL/_admin/webhooks/endpoints" -H 'Content-Type: application/json' \
        -d "{\"name\": \"demo\", \"secret\": \"$secret\"}"
fi

# Online meeting platforms: demo apps at the (local) Zoom, Tencent Meeting and DingTalk, then the
# organization's credentials (setting them again replaces them with the same).
curl -fsS -o /dev/null -X POST "$CONTRACTS_URL/_admin/zoom/accounts" -H 'Content-Type: application/json' \
    -d '{"accountId": "demo-zoom", "clientId": "demo-client", "clientSecret": "demo-zoom-secret", "webhookSecret": "demo-zoom-webhook"}'
curl -fsS -o /dev/null -X POST "$CONTRACTS_URL/_admin/tencent/apps" -H 'Content-Type: application/json' \
    -d '{"secretId": "AKIDdemo", "secretKey": "demo-tencent-key", "appId": "200000001"}'
curl -fsS -o /dev/null -X POST "$CONTRACTS_URL/_admin/dingtalk-open/apps" -H 'Content-Type: application/json' \
    -d '{"appKey": "dingdemo", "appSecret": "demo-dingtalk-secret"}'
call PUT /v1/organizations/demo/platforms/zoom/credentials "$admin" \
    '{"accountId": "demo-zoom", "clientId": "demo-client", "clientSecret": "demo-zoom-secret", "webhookSecretToken": "demo-zoom-webhook"}' >/dev/null
expect 200
call PUT /v1/organizations/demo/platforms/tencent/credentials "$admin" \
    '{"secretId": "AKIDdemo", "secretKey": "demo-tencent-key", "appId": "200000001", "creatorUserId": "demo-host"}' >/dev/null
expect 200
call PUT /v1/organizations/demo/platforms/dingtalk/credentials "$admin" \
    '{"appKey": "dingdemo", "appSecret": "demo-dingtalk-secret", "creatorUnionId": "demo-host-union"}' >/dev/null
expect 200

cat >&2 <<MSG
  Demo data (password of both accounts: $PASSWORD):
    $ADMIN        system admin, administrator of organization "demo"; token (15 min) in $CONVENE_STACK_DIR/demo-token
    $PARTICIPANT  a participant; token in $CONVENE_STACK_DIR/participant-token
    conference $conference: open for registration (paid categories regular and student, free speaker)
  Try:
    curl -s $GATEWAY_URL/v1/conferences/$conference/registration-form
    curl -s -X POST $GATEWAY_URL/v1/conferences/$conference/registrations -H "Authorization: Bearer \$(cat $CONVENE_STACK_DIR/participant-token)" \\
         -H 'Content-Type: application/json' -d '{"category": "student", "answers": {"affiliation": "北京大学"}}'
    curl -s -X POST $GATEWAY_URL/v1/auth/login -H 'Content-Type: application/json' -d '{"email": "$PARTICIPANT", "password": "$PASSWORD"}'
MSG
