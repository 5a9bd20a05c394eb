#!/usr/bin/env bash
# End to end with the real binary: the commands a user types, on a fresh data dir.
set -euo pipefail
GW=${1:?usage: cli_test.sh path/to/mdm-gateway}
WORK=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/serve.log" ] && sed 's/^/  serve: /' "$WORK/serve.log" >&2; exit 1; }

# apikey create prints the key alone on its last line.
KEY=$("$GW" apikey create --name e2e --data-dir "$WORK/var" 2>"$WORK/apikey.err" | tail -n 1)
[[ "$KEY" =~ ^mdmgw_[A-Za-z0-9_-]{43}$ ]] || fail "apikey create last line is not a key: '$KEY'"
if "$GW" apikey create --name e2e --data-dir "$WORK/var" >/dev/null 2>"$WORK/dup.err"; then
  fail "duplicate key name accepted"
fi
grep -q "already exists" "$WORK/dup.err" || fail "duplicate name error unclear: $(cat "$WORK/dup.err")"
grep -q "$KEY" "$WORK/apikey.err" && fail "key leaked to stderr"

# --help lists the fixed names with their environment variables.
HELP=$("$GW" serve --help)
for name in --listen --data-dir --store --upstream-url --devices-ca-file --apns-base-url --apns-ca-file \
            --machineinfo-ca-file MDMGW_LISTEN MDMGW_DATA_DIR MDMGW_STORE MDMGW_MASTER_KEY; do
  grep -q -- "$name" <<<"$HELP" || fail "serve --help does not mention $name"
done

# A bad configuration is refused with a clear message and exit code 2.
set +e
"$GW" serve --data-dir "$WORK/var" --listen nonsense >/dev/null 2>"$WORK/bad.err"; RC=$?
set -e
[ "$RC" -eq 2 ] || fail "bad --listen exited $RC, want 2"
grep -q "listen" "$WORK/bad.err" || fail "bad --listen error unclear"

# A TOML file with a typo is refused, naming the key.
printf '[server]\nlisen = "127.0.0.1:1"\n' > "$WORK/typo.toml"
set +e
"$GW" serve --config "$WORK/typo.toml" --data-dir "$WORK/var" >/dev/null 2>"$WORK/typo.err"; RC=$?
set -e
[ "$RC" -eq 2 ] || fail "TOML typo exited $RC, want 2"
grep -q "unknown setting \[server\] lisen" "$WORK/typo.err" || fail "TOML typo error unclear: $(cat "$WORK/typo.err")"

# serve on a free port, configured by file + environment + flag; the "listening" line has the port.
printf '[log]\nlevel = "debug"\n[server]\nlisten = "127.0.0.1:1"\n' > "$WORK/gw.toml"
# The file says debug and port 1; the environment overrides the level, the flag the address.
MDMGW_LOG_LEVEL=info "$GW" serve --config "$WORK/gw.toml" --data-dir "$WORK/var" --listen 127.0.0.1:0 \
  2>"$WORK/serve.log" &
PID=$!
PORT=""
for _ in $(seq 1 100); do
  PORT=$(grep -o '"msg":"listening".*"port":[0-9]*' "$WORK/serve.log" 2>/dev/null | grep -o '[0-9]*$' || true)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || fail "gateway did not start listening"
grep -q '"level":"debug"' "$WORK/serve.log" && fail "MDMGW_LOG_LEVEL did not override the file"
URL="https://127.0.0.1:$PORT"

[ "$(curl -sk --http2 -o /dev/null -w '%{http_version} %{http_code}' "$URL/healthz")" = "2 200" ] || fail "h2 /healthz"
[ "$(curl -sk --http1.1 -o /dev/null -w '%{http_version} %{http_code}' "$URL/healthz")" = "1.1 200" ] || fail "HTTP/1.1 /healthz"
[ "$(curl -sk -o /dev/null -w '%{http_code}' "$URL/readyz")" = "200" ] || fail "/readyz"
[ "$(curl -sk -o /dev/null -w '%{http_code}' "$URL/api/v1/info")" = "401" ] || fail "no key should be 401"
[ "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$URL/api/v1/info")" = "200" ] || fail "key should be 200"
METRICS=$(curl -sk "$URL/metrics")
grep -qF 'mdmgw_http_requests_total{route="/api/v1/info",method="GET",status="401"} 1' <<<"$METRICS" \
  || fail "metrics do not count the 401"

# Revoking from the CLI takes effect on the running server.
"$GW" apikey revoke e2e --data-dir "$WORK/var" >/dev/null
[ "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$URL/api/v1/info")" = "401" ] || fail "revoked key accepted"

# Changes made on the server's own store by the CLI are audited too, with the OS user as the actor.
KEY2=$("$GW" apikey create --name auditor --scope read --data-dir "$WORK/var" 2>/dev/null | tail -n 1)
AUDIT=$(curl -sk -H "Authorization: Bearer $KEY2" "$URL/api/v1/audit")
grep -qF '"path":"apikey revoke e2e"' <<<"$AUDIT" || fail "CLI revoke not audited: $AUDIT"
grep -qF '"path":"apikey create auditor"' <<<"$AUDIT" || fail "CLI create not audited: $AUDIT"
grep -qF '"id":"cli"' <<<"$AUDIT" || fail "CLI audit actor: $AUDIT"
[ "$(curl -sk -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $KEY2" "$URL/api/v1/apikeys/e2e")" = "403" ] \
  || fail "a read-only key may not revoke"

# Files: key file 0600, TLS key 0600; no secret in the log.
[ "$(stat -c %a "$WORK/var/master.key")" = "600" ] || fail "master.key mode"
[ "$(stat -c %a "$WORK/var/tls/server.key")" = "600" ] || fail "server.key mode"
grep -q "$KEY" "$WORK/serve.log" && fail "API key appears in the log"
grep -q "$(cat "$WORK/var/master.key")" "$WORK/serve.log" && fail "master key appears in the log"
while read -r line; do
  [[ "$line" == \{*\} ]] || fail "log line is not a JSON object: $line"
done < "$WORK/serve.log"

# SIGTERM: graceful stop, exit 0.
kill -TERM "$PID"
wait "$PID" || fail "serve exited non-zero after SIGTERM"
PID=""
grep -q '"msg":"stopped"' "$WORK/serve.log" || fail "no 'stopped' log line"

# Master key rotation (gateway stopped): a new master.key (0600), every secret re-sealed; a gateway
# given the old key is then refused at start with a clear message.
OLD_MASTER=$(cat "$WORK/var/master.key")
"$GW" rotate-master-key --data-dir "$WORK/var" >"$WORK/rotate.out" 2>"$WORK/rotate.err" \
  || fail "rotate-master-key failed: $(cat "$WORK/rotate.err")"
grep -q "re-sealed [0-9]* secrets" "$WORK/rotate.out" || fail "rotate output: $(cat "$WORK/rotate.out")"
[ "$(cat "$WORK/var/master.key")" != "$OLD_MASTER" ] || fail "master.key was not replaced"
[ "$(stat -c %a "$WORK/var/master.key")" = "600" ] || fail "rotated master.key mode"
[ ! -e "$WORK/var/master.key.next" ] || fail "master.key.next left behind"
grep -q "$OLD_MASTER" "$WORK/rotate.out" "$WORK/rotate.err" && fail "a master key was printed"
set +e
MDMGW_MASTER_KEY="$OLD_MASTER" "$GW" serve --data-dir "$WORK/var" --listen 127.0.0.1:0 2>"$WORK/oldkey.err"
RC=$?
set -e
[ "$RC" = "1" ] || fail "serve with the old master key exited $RC, want 1"
grep -q "not the key this store" "$WORK/oldkey.err" || fail "old-key refusal unclear: $(cat "$WORK/oldkey.err")"
echo "cli_e2e: all checks passed"
