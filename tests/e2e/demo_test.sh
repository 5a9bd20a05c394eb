#!/usr/bin/env bash
# `mdm-gateway demo --exit` end to end (issue 7): the seven steps on a fresh data dir with the real
# simulators as child processes; the summary's figures are checked against the run, and a failing
# step is named, exits non-zero and leaves no simulator behind.
set -euo pipefail
GW=${1:?usage: demo_test.sh path/to/mdm-gateway path/to/fixtures-build-dir}
SIMS=${2:?usage: demo_test.sh path/to/mdm-gateway path/to/fixtures-build-dir}
WORK=$(mktemp -d)
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/out" ] && sed 's/^/  demo: /' "$WORK/out" >&2; exit 1; }

# 1. The whole story: 500 DEP devices, 3 devices per method.
set +e
timeout 300 "$GW" demo --exit --data-dir "$WORK/demo" --listen 127.0.0.1:0 --devices 500 \
  --devices-per-method 3 --log-level debug >"$WORK/out" 2>"$WORK/err"
RC=$?
set -e
[ "$RC" -eq 0 ] || { cat "$WORK/err" >&2; fail "demo exited $RC"; }
for step in 1 2 3 4 5 6 7; do
  grep -q "^\[$step/7\] " "$WORK/out" || fail "step $step printed no line"
done
grep -q "FAILED" "$WORK/out" && fail "a step failed"
grep -Eq '^\[1/7\] .*topic com\.apple\.mgmt\.External\.[0-9a-f-]+, expires 20[0-9]{2}-' "$WORK/out" ||
  fail "step 1 does not show the topic and expiry"
grep -Eq '^\[3/7\] synced 500 devices .*auto-assigned to 500 devices' "$WORK/out" ||
  fail "step 3 did not sync and assign all 500 devices"
grep -Eq '^\[5/7\] enrolled 12 devices .*\(24 check-ins\)' "$WORK/out" ||
  fail "step 5 did not forward Authenticate + TokenUpdate of 12 devices"
grep -Eq '^\[6/7\] pushed 12 devices: 12 accepted by APNs .*core: 12 answered' "$WORK/out" ||
  fail "step 6 did not wake all 12 devices"
for m in dep usb-sa usb-direct ota; do
  grep -Eq "^ +$m +3 +3 +3 +3$" "$WORK/out" || fail "summary row for $m is not 3/3/3/3"
done
grep -Eq '^ +total +12 +12 +12 +12$' "$WORK/out" || fail "summary total is not 12"
grep -q "DEP devices synced: 500, assigned: 500" "$WORK/out" || fail "summary DEP line wrong"
grep -q "demo: stopped (--exit)" "$WORK/out" || fail "--exit did not stop"
grep -Eq "console: https://127\.0\.0\.1:[0-9]+/console/" "$WORK/out" || fail "no console URL in the summary"
# The files the summary points at exist and are what they say.
[ -s "$WORK/demo/exports/demo-direct.mobileconfig" ] || fail "USB-Direct export missing"
[ -s "$WORK/demo/exports/demo-cart-configurator.zip" ] || fail "USB-SA export missing"
head -c 2 "$WORK/demo/exports/demo-cart-configurator.zip" | grep -q PK || fail "USB-SA export is not a zip"
openssl cms -verify -noverify -inform DER -in "$WORK/demo/exports/demo-direct.mobileconfig" \
  -out "$WORK/direct.plist" 2>/dev/null || fail "USB-Direct export is not a signed profile"
grep -q "com.apple.mdm" "$WORK/direct.plist" || fail "USB-Direct export carries no MDM payload"
[ "$(ls "$WORK/demo/devices" | wc -l)" -eq 12 ] || fail "not one profile per enrolled device"
# The admin key is printed once and is a key; no secret lands in the logs.
KEY=$(sed -n 's/.*admin key (shown once): //p' "$WORK/out")
[[ "$KEY" =~ ^mdmgw_[A-Za-z0-9_-]{43}$ ]] || fail "admin key line missing"
if grep -rq -- "$KEY" "$WORK/err" "$WORK/demo/logs"; then fail "the admin key leaked to a log"; fi
# Secrets never reach the gateway's log (its stderr, at debug level) or the demo's output (issue 8):
# PushMagic and UnlockToken (device-sim sends magic-/unlock-<UDID>), push tokens (device-sim's
# token of each UDID, as hex and base64), dep-sim's OAuth secrets, private keys, the master key.
[ "$(wc -l <"$WORK/err")" -gt 20 ] || fail "the gateway logged almost nothing; the check below would be empty"
LOGS=("$WORK/err" "$WORK/out")
for secret in magic-DEMO unlock-DEMO CS_34c7b2b531a600d99a0e0fa4c6a3bbcf1ec1e5d6 \
              AT_O8473841760O4d4ed4c2e1e0fd7e7a1a8d1e8ed5d0e6c5d0c1ccO1571954 \
              AS_b56ad5d0b4ce8c2ba3c6b7a0e0d4c0d1e2f3a4b5 "PRIVATE KEY" \
              "$(head -c 40 "$WORK/demo/master.key")"; do
  if grep -qF -- "$secret" "${LOGS[@]}"; then fail "a secret ($secret) is in the gateway's log"; fi
done
mapfile -t TOKENS < <(ls "$WORK/demo/devices" | sed 's/\.mobileconfig$//' | python3 -c '
import base64, sys
for udid in sys.stdin.read().split():
    t = bytes(ord(udid[i % len(udid)]) ^ (i * 37 % 256) for i in range(32))
    print(t.hex()); print(t.hex().upper()); print(base64.b64encode(t).decode())')
[ "${#TOKENS[@]}" -eq 36 ] || fail "expected 12 device tokens in 3 forms, got ${#TOKENS[@]}"
for t in "${TOKENS[@]}"; do
  if grep -qF -- "$t" "${LOGS[@]}"; then fail "a push token ($t) is in the gateway's log"; fi
done

# 2. A failing step names itself and why, exits non-zero, and stops the simulators.
mkdir -p "$WORK/sims"
for s in apns-sim dep-sim mdm-core-stub; do ln -s "$(find "$SIMS" -name "$s" -type f -perm -u+x | head -n 1)" "$WORK/sims/$s"; done
REAL_DEVICE_SIM=$(find "$SIMS" -name device-sim -type f -perm -u+x | head -n 1)
cat >"$WORK/sims/device-sim" <<WRAP
#!/usr/bin/env bash
if [ "\$1" = enroll ]; then echo '{"error":"simulated: the device lost its network"}'; exit 1; fi
exec "$REAL_DEVICE_SIM" "\$@"
WRAP
chmod +x "$WORK/sims/device-sim"
set +e
timeout 300 "$GW" demo --exit --data-dir "$WORK/fail" --listen 127.0.0.1:0 --devices 50 \
  --sim-dir "$WORK/sims" >"$WORK/out" 2>"$WORK/err"
RC=$?
set -e
[ "$RC" -ne 0 ] || fail "a failing step exited 0"
[ "$RC" -ne 124 ] || fail "the failing demo hung"
grep -q '^\[4/7\] ' "$WORK/out" || fail "steps before the failure did not run"
grep -q '^\[5/7\] FAILED (device enrollment): .*lost its network' "$WORK/out" ||
  fail "the failing step is not named with its reason"
grep -q '^\[6/7\]' "$WORK/out" && fail "steps ran after the failure"
if pgrep -f -- "$WORK/" >/dev/null; then fail "simulators left running after the failure"; fi
echo "demo e2e: ok"
