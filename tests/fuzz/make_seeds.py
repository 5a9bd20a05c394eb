#!/usr/bin/env python3
"""Writes the synthetic seed inputs of tests/fuzz/corpus/ (the copied real ones are listed in
corpus/SOURCES.md). Run from anywhere; it rewrites only the files it names."""
import os
import plistlib
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', '..', 'fixtures', 'data')


def put(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# Check-ins: the real XML fixtures again as binary plists (devices may send either).
src = os.path.join(DATA, 'nanomdm', 'mdm', 'testdata')
for name in sorted(os.listdir(src)):
    with open(os.path.join(src, name), 'rb') as f:
        put('checkin_plist', name.replace('.plist', '.bplist'),
            plistlib.dumps(plistlib.loads(f.read()), fmt=plistlib.FMT_BINARY))
put('checkin_plist', 'Idle.bplist', plistlib.dumps(
    {'Status': 'Idle', 'UDID': 'ABC-123'}, fmt=plistlib.FMT_BINARY))
put('checkin_plist', 'Acknowledged.plist', plistlib.dumps(
    {'Status': 'Acknowledged', 'UDID': 'ABC-123', 'CommandUUID': 'c-1',
     'QueryResponses': {'DeviceName': 'iPad', 'OSVersion': '17.1'}}))

# HTTP/2 frames after the preface: SETTINGS, HEADERS (HPACK: indexed + literal, no Huffman),
# DATA, CONTINUATION, PING, RST_STREAM, WINDOW_UPDATE.
def frame(kind, flags, stream, payload=b''):
    return struct.pack('>I', len(payload))[1:] + bytes([kind, flags]) + struct.pack('>I', stream) + payload


def literal(name, value):
    return b'\x00' + bytes([len(name)]) + name + bytes([len(value)]) + value


settings = frame(4, 0, 0, struct.pack('>HI', 3, 100))
get = b'\x82\x84\x87' + literal(b':authority', b'localhost') + literal(b':path', b'/healthz')
post = b'\x83\x87' + literal(b':path', b'/mdm/checkin') + literal(b':authority', b'gw') + \
    literal(b'content-type', b'application/x-apple-aspen-mdm-checkin')
put('h2_frames', 'get', settings + frame(1, 0x05, 1, get))
put('h2_frames', 'post', settings + frame(1, 0x04, 1, post) + frame(0, 0x01, 1, b'<plist/>'))
put('h2_frames', 'continuation', settings + frame(1, 0x01, 3, get[:5]) + frame(9, 0x04, 3, get[5:]))
put('h2_frames', 'ping-reset-window', settings + frame(6, 0, 0, b'12345678') +
    frame(1, 0x04, 5, post) + frame(3, 0, 5, struct.pack('>I', 8)) +
    frame(8, 0, 0, struct.pack('>I', 65535)))

# Router inputs: "METHOD PATH?QUERY".
for i, line in enumerate([
        'GET /api/v1/dep/servers/abm/profiles/campus',
        'GET /api/v1/dep/servers/a%2Fb/profiles/%E2%98%83',
        'GET /enroll/configurator/ep_1.mobileconfig?token=a%20b&x=1',
        'PUT /api/v1/devices/UDID-1:user',
        'GET /v1/push/a,b,,c',
        'GET /console/..%2F..%2Fetc%2Fpasswd',
        'DELETE /api/v1/dep/servers/abm/profiles/campus']):
    put('router_paths', f'{i}', line)

# DEP answers beyond the copied captures.
put('dep_json', 'sync-page.json',
    '{"cursor":"MTU","more_to_follow":true,"devices":[{"serial_number":"C02A","op_type":"added",'
    '"op_date":"2024-09-16T17:21:34Z","profile_status":"empty"},{"serial_number":"C02B",'
    '"op_type":"deleted","op_date":"2024-09-16T17:21:34+02:00"}]}')
put('dep_json', 'error.json', '{"code":"T_C_NOT_SIGNED","message":"terms"}')
put('dep_json', 'bare-error', 'EXHAUSTED_CURSOR')

# A decrypted server token as Apple wraps it.
put('server_token', 'plaintext.txt',
    'Content-Type: text/plain;charset=UTF8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
    '-----BEGIN MESSAGE-----\r\n{"consumer_key":"CK_1","consumer_secret":"CS_1",'
    '"access_token":"AT_1","access_secret":"AS_1","access_token_expiry":"2099-09-16T17:21:34Z"}'
    '\r\n-----END MESSAGE-----\r\n')

# HTTP/1.1 requests as devices, admins and Configurator send them: a check-in with a body, a
# keep-alive pair, a chunked upload, a query with escapes, one over the 1 KiB route limit, and a
# malformed start line.
checkin = b'<?xml version="1.0"?><plist version="1.0"><dict><key>MessageType</key>' \
    b'<string>Authenticate</string></dict></plist>'
put('h1_request', 'checkin-put',
    b'PUT /mdm/checkin HTTP/1.1\r\nHost: gw.example\r\nContent-Type: application/x-apple-aspen-mdm-checkin\r\n'
    b'Mdm-Signature: MIAGCSqGSIb3DQEHAqCAMIACAQEx\r\nContent-Length: ' + str(len(checkin)).encode() +
    b'\r\n\r\n' + checkin)
put('h1_request', 'keep-alive-pair',
    b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
    b'GET /api/v1/dep/devices?server=main&limit=10 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n'
    b'Connection: close\r\n\r\n')
put('h1_request', 'chunked-upload',
    b'POST /api/v1/apns/certificate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
    b'5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n')
put('h1_request', 'escaped-query',
    b'POST /api/v1/dep/servers/a%20b/sync?wait=1&x=%41+b HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')
put('h1_request', 'over-limit',
    b'POST /ab HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n' + b'a' * 2000)
put('h1_request', 'bad-start-line', b'GET /\x01 HTTP/9.9\r\n\r\n')
