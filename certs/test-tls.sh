#!/usr/bin/env bash
# Private TLS certificates for the axis tests, generated per run into DIR (never committed):
#   ca.pem                    a test CA (RSA-2048)
#   server.pem/.key.pem       issued by it for 127.0.0.1 and localhost (key PKCS#8)
#   wrongname.pem/.key.pem    issued by it for truc.example only (hostname mismatch)
#   self.pem/.key.pem         self-signed for 127.0.0.1 (not under the CA)
# Usage: certs/test-tls.sh DIR
set -euo pipefail
dir="$1"
mkdir -p "$dir"
cd "$dir"
export OPENSSL_CONF=/dev/null
key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key.pem" 2>/dev/null; }
cat > tls.cnf <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
[wrongname]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:truc.example
CNF
key ca
openssl req -new -x509 -key ca.key.pem -out ca.pem -days 30 -sha256 \
  -subj "/C=VN/O=vanthu test/CN=vanthu Test TLS CA" -extensions ca -config tls.cnf
issue() { # name ext cn
  key "$1"
  openssl req -new -key "$1.key.pem" -out "$1.csr" -subj "/C=VN/O=vanthu test/CN=$3" -config tls.cnf 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key.pem -set_serial "$RANDOM$RANDOM" \
    -out "$1.pem" -days 30 -sha256 -extfile tls.cnf -extensions "$2" 2>/dev/null
}
issue server server "127.0.0.1"
issue wrongname wrongname "truc.example"
key self
openssl req -new -x509 -key self.key.pem -out self.pem -days 30 -sha256 \
  -subj "/C=VN/O=vanthu test/CN=127.0.0.1" -extensions server -config tls.cnf
