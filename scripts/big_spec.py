#!/usr/bin/env python3
"""A dev chain spec with N extra endowed accounts, to measure a node with a large state.

Usage: scripts/big_spec.py AITBC_NODE_BINARY N OUT.json   (then: aitbc-node --chain OUT.json --alice ...)
The accounts are bech32m (`ait1...`) addresses of blake2b-256(i as u64 LE); they hold 10^9 each.
"""
import json, sys, hashlib, subprocess
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
def polymod(values):
    GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1ffffff) << 5 ^ v
        for i in range(5):
            chk ^= GEN[i] if ((b >> i) & 1) else 0
    return chk
def hrp_expand(hrp): return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
def convertbits(data, frombits, tobits):
    acc = bits = 0; ret = []; maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value; bits += frombits
        while bits >= tobits:
            bits -= tobits; ret.append((acc >> bits) & maxv)
    if bits: ret.append((acc << (tobits - bits)) & maxv)
    return ret
def encode(hrp, data):
    d = convertbits(data, 8, 5)
    pm = polymod(hrp_expand(hrp) + d + [0]*6) ^ 0x2bc830a3
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[x] for x in d + chk)
assert encode("ait", bytes.fromhex("2e824b71aea63bd2122dca7037b73f835eba7fc6b104c744905b7ef06bd2b865")) == "ait196pykudw5caayy3defcr0delsd0t5l7xkyzvw3ystdl0q67jhpjstsj9r9"
n = int(sys.argv[2])
spec = json.loads(subprocess.run([sys.argv[1], "build-spec", "--chain", "dev"], capture_output=True, text=True, check=True).stdout)
spec["id"] = "dev_big"
for i in range(n):
    spec["genesis"]["balances"].append([encode("ait", hashlib.blake2b(i.to_bytes(8, "little"), digest_size=32).digest()), "1000000000"])
json.dump(spec, open(sys.argv[3], "w"))
