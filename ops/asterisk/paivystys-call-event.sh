#!/usr/bin/env bash
# Sends one call event from Asterisk to Päivystys: POST /api/v1/telephony/events, the JSON
# body signed with X-Paivystys-Signature: sha256=<hex HMAC-SHA256 of the body> under the
# shared secret (PAIVYSTYS_TELEPHONY_SECRET on both sides). See README.md for the dialplan.
#
#   paivystys-call-event.sh --event call.ringing|call.answered|call.ended --call-id ID \
#       --from NUMBER --to NUMBER [--extension EXT] [--reason caller_hangup|no_answer|completed] \
#       [--direction in|out] [--background]
#
# Settings (environment, or KEY=VALUE lines in $PAIVYSTYS_CALL_EVENT_CONF, by default
# /etc/paivystys/call-event.conf; the environment wins):
#   PAIVYSTYS_URL                    the server, e.g. https://paivystys.example.fi (required)
#   PAIVYSTYS_TELEPHONY_SECRET       the shared secret, or
#   PAIVYSTYS_TELEPHONY_SECRET_FILE  a file holding it (default /etc/paivystys/telephony-secret)
#   PAIVYSTYS_TIMEOUT                seconds per attempt (default 5)
#   PAIVYSTYS_RETRIES                further attempts after a failed one (default 3)
#   PAIVYSTYS_CA_FILE                CA bundle for the server's certificate (default: the system's)
#   PAIVYSTYS_ALLOW_HTTP=1           allow plain http:// to another host than this one (testing only)
#
# --background: check the arguments, note the time, then send from a detached process and
# return at once, so the dialplan never waits for the network (the outcome goes to syslog).
#
# Exit codes: 0 sent (or the server already had this event: 409), 2 bad arguments or
# settings, 3 refused as unsigned/forged/stale (401: wrong secret, or the clocks differ by
# more than 300 s), 4 refused as not a call event (400), 5 telephony not configured on the
# server (404), 6 gave up after retries (network, timeout, 5xx, 429), 7 another answer.
#
# The calling and called numbers are never logged, and never written to disk: the body goes
# to curl on its standard input.

set -euo pipefail
umask 077

readonly PROG=paivystys-call-event
readonly MAX_FIELD=64

log() {
  # syslog (Asterisk's System() has no terminal), and the terminal too when there is one.
  local logged=0
  if command -v logger >/dev/null 2>&1 && logger -t "$PROG" -- "$*" 2>/dev/null; then logged=1; fi
  if ((!logged)) || [[ -t 2 ]]; then printf '%s: %s\n' "$PROG" "$*" >&2; fi
  return 0
}

die() {
  local code=$1
  shift
  log "$*"
  exit "$code"
}

usage() {
  sed -n '6,8p' "$0" >&2
  exit 2
}

# ---- Settings ----

conf=${PAIVYSTYS_CALL_EVENT_CONF:-/etc/paivystys/call-event.conf}
if [[ -r $conf ]]; then
  # KEY=VALUE lines only; nothing in the file is run.
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    if [[ $line =~ ^(PAIVYSTYS_URL|PAIVYSTYS_TELEPHONY_SECRET|PAIVYSTYS_TELEPHONY_SECRET_FILE|PAIVYSTYS_TIMEOUT|PAIVYSTYS_RETRIES|PAIVYSTYS_CA_FILE|PAIVYSTYS_ALLOW_HTTP)=(.*)$ ]]; then
      key=${BASH_REMATCH[1]}
      value=${BASH_REMATCH[2]}
      value=${value%\"}
      value=${value#\"}
      [[ -z ${!key:-} ]] && printf -v "$key" '%s' "$value"
    fi
  done <"$conf"
fi

url=${PAIVYSTYS_URL:-}
timeout=${PAIVYSTYS_TIMEOUT:-5}
retries=${PAIVYSTYS_RETRIES:-3}
[[ -n $url ]] || die 2 "PAIVYSTYS_URL is not set"
[[ $timeout =~ ^[1-9][0-9]?$ ]] || die 2 "PAIVYSTYS_TIMEOUT must be 1-99 seconds"
[[ $retries =~ ^[0-9]$ ]] || die 2 "PAIVYSTYS_RETRIES must be 0-9"
url=${url%/}
case $url in
  https://*) ;;
  http://127.0.0.1[:/]* | http://127.0.0.1 | http://localhost[:/]* | http://localhost | http://\[::1\]*) ;;
  http://*) [[ ${PAIVYSTYS_ALLOW_HTTP:-} == 1 ]] || die 2 "refusing plain http:// to another host: use https:// (or PAIVYSTYS_ALLOW_HTTP=1 for a test)" ;;
  *) die 2 "PAIVYSTYS_URL must start with https://" ;;
esac

secret=${PAIVYSTYS_TELEPHONY_SECRET:-}
if [[ -z $secret ]]; then
  secret_file=${PAIVYSTYS_TELEPHONY_SECRET_FILE:-/etc/paivystys/telephony-secret}
  [[ -r $secret_file ]] || die 2 "no secret: set PAIVYSTYS_TELEPHONY_SECRET or PAIVYSTYS_TELEPHONY_SECRET_FILE"
  IFS= read -r secret <"$secret_file" || true
fi
[[ -n $secret ]] || die 2 "the telephony secret is empty"

# ---- Arguments ----

event='' call_id='' from='' to='' extension='' reason='' direction='' background=0
while (($#)); do
  case $1 in
    --event) event=${2-}; shift 2 || usage ;;
    --call-id) call_id=${2-}; shift 2 || usage ;;
    --from) from=${2-}; shift 2 || usage ;;
    --to) to=${2-}; shift 2 || usage ;;
    --extension) extension=${2-}; shift 2 || usage ;;
    --reason) reason=${2-}; shift 2 || usage ;;
    --direction) direction=${2-}; shift 2 || usage ;;
    --background) background=1; shift ;;
    -h | --help) usage ;;
    --*) die 2 "unknown option: ${1:0:40}" ;;
    *) die 2 "unexpected argument (not shown: it may be a number)" ;;
  esac
done

case $event in
  call.ringing | call.answered | call.ended) ;;
  *) die 2 "--event must be call.ringing, call.answered or call.ended" ;;
esac
case $reason in
  '' | caller_hangup | no_answer | completed) ;;
  *) die 2 "--reason must be caller_hangup, no_answer or completed" ;;
esac
case $direction in
  '' | in | out) ;;
  *) die 2 "--direction must be in or out" ;;
esac
[[ -n $call_id ]] || die 2 "--call-id is required"

# What the server accepts: at most 64 printable characters. Control characters are dropped
# (a caller id is not to be trusted), and over-long values cut.
clean() {
  local value=${1//[$'\001'-$'\037'$'\177']/}
  printf '%s' "${value:0:$MAX_FIELD}"
}

# A JSON string literal: backslash and quote escaped (control characters are already gone).
json_string() {
  local value=$1
  value=${value//\\/\\\\}
  value=${value//\"/\\\"}
  printf '"%s"' "$value"
}

call_id=$(clean "$call_id")
from=$(clean "$from")
to=$(clean "$to")
extension=$(clean "$extension")
# The moment of the event, by this host's clock (keep it in time with NTP: the server
# refuses events more than 300 s off). Taken now, so retries keep the true moment.
at=$(date -u +%Y-%m-%dT%H:%M:%SZ)

body="{\"event\":$(json_string "$event"),\"call_id\":$(json_string "$call_id"),\"from\":$(json_string "$from"),\"to\":$(json_string "$to"),\"at\":$(json_string "$at")"
[[ -n $direction ]] && body+=",\"direction\":$(json_string "$direction")"
[[ -n $extension ]] && body+=",\"extension\":$(json_string "$extension")"
[[ -n $reason ]] && body+=",\"reason\":$(json_string "$reason")"
body+='}'

# ---- Sending ----

signature() {
  # openssl prints "HMAC-SHA2-256(stdin)= <hex>" (the label varies by version): keep the hex.
  local out
  out=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret") || return 1
  out=${out##*= }
  [[ $out =~ ^[0-9a-f]{64}$ ]] || return 1
  printf '%s' "$out"
}

send() {
  local sig status attempt=0 delay=1 curl_rc
  local -a tls=()
  [[ -n ${PAIVYSTYS_CA_FILE:-} ]] && tls=(--cacert "$PAIVYSTYS_CA_FILE")
  sig=$(signature) || die 2 "openssl could not sign the event"
  while :; do
    curl_rc=0
    status=$(printf '%s' "$body" | curl --silent --show-error --output /dev/null \
      --write-out '%{http_code}' --connect-timeout "$timeout" --max-time "$timeout" \
      --proto '=https,http' "${tls[@]}" \
      -H 'Content-Type: application/json' \
      -H "X-Paivystys-Signature: sha256=$sig" \
      --data-binary @- "$url/api/v1/telephony/events" 2>/dev/null) || curl_rc=$?
    case $status in
      200) log "$event $call_id: sent"; return 0 ;;
      409) log "$event $call_id: the server already had it"; return 0 ;;
      401) die 3 "$event $call_id: refused (401): wrong secret, or this host's clock is more than 300 s off" ;;
      400) die 4 "$event $call_id: refused as not a call event (400)" ;;
      404) die 5 "$event $call_id: telephony is not configured on the server (404)" ;;
      000 | '' | 408 | 429 | 5??) ;;
      *) die 7 "$event $call_id: the server answered $status" ;;
    esac
    if ((attempt >= retries)); then
      die 6 "$event $call_id: gave up after $((attempt + 1)) attempts (last: HTTP ${status:-none}, curl $curl_rc)"
    fi
    attempt=$((attempt + 1))
    sleep "$delay"
    delay=$((delay * 2))
  done
}

if ((background)); then
  # Detached from Asterisk: its own session, no terminal, nothing inherited on stdio.
  export -f log die signature send
  export PROG event call_id body url timeout retries secret
  export PAIVYSTYS_CA_FILE="${PAIVYSTYS_CA_FILE:-}"
  setsid bash -c 'set -euo pipefail; send' </dev/null >/dev/null 2>&1 &
  exit 0
fi
send
