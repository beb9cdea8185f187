#!/usr/bin/env bash
# Private test PKI for the PDF signature tests, generated per run into DIR (never committed):
#   root (RSA) → intermediate (pathlen:0) → leader (RSA-2048), clerk (ECDSA P-256),
#   expired (validity in the past), tsa (critical EKU timeStamping), tsanc (the same EKU, not
#   critical), nokeyusage (keyCertSign only)
#   evil-root: same subject as root, another key (a look-alike anchor).
# Each signer: KEY.key.pem (PKCS#8), KEY.pem, KEY.p12 (password 1234, signer + chain),
# chain.pem = intermediate + root. tsa.cnf drives `openssl ts -reply`.
# With CRL_URL=http://127.0.0.1:PORT set, certificates carry CRL distribution points
# ($CRL_URL/root.crl for the intermediate, $CRL_URL/inter.crl below it) and root.crl, inter.crl
# (DER) are written; `revoked` is a signer whose certificate is on inter.crl (`held`: on hold,
# reason certificateHold), `badinter` an
# intermediate on root.crl and `underbad` a signer below it. With OCSP_URL set, `ocspok` points
# to the OCSP responder (`ocsp`, EKU OCSPSigning, delegated by the intermediate); `ocspshort` is
# another delegated responder whose certificate is valid for one day only.
# Usage: [CRL_URL=…] certs/test-pki.sh DIR
set -euo pipefail
dir="$1"
crl_url="${CRL_URL:-}"
ocsp_url="${OCSP_URL:-}"
mkdir -p "$dir"
cd "$dir"
export OPENSSL_CONF=/dev/null

cdp_inter="" cdp_root=""
if [ -n "$crl_url" ]; then
  cdp_inter="crlDistributionPoints = URI:$crl_url/inter.crl"
  cdp_root="crlDistributionPoints = URI:$crl_url/root.crl"
fi
aia=""
if [ -n "$ocsp_url" ]; then
  aia="authorityInfoAccess = OCSP;URI:$ocsp_url"
fi
cat > ext.cnf <<EOF
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
$cdp_root
[signer]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
$cdp_inter
[tsa]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
$cdp_inter
[tsanc]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
$cdp_inter
[ocspsigner]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
$aia
[ocsp]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[nokeyusage]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
$cdp_inter
EOF

rsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key.pem" 2>/dev/null; }
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key.pem" 2>/dev/null; }
serial() { printf '%d' "$(( (RANDOM << 16) | RANDOM ))"; }

rsa root
openssl req -new -x509 -key root.key.pem -out root.pem -days 3650 -sha256 \
  -subj "/C=VN/O=vanthu test/CN=vanthu Test Root CA" -extensions root -config ext.cnf
rsa evil-root
openssl req -new -x509 -key evil-root.key.pem -out evil-root.pem -days 3650 -sha256 \
  -subj "/C=VN/O=vanthu test/CN=vanthu Test Root CA" -extensions root -config ext.cnf

issue() { # name issuer ext subject [days]
  openssl req -new -utf8 -key "$1.key.pem" -out "$1.csr" -subj "$4" -config ext.cnf 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key.pem" -set_serial "$(serial)" \
    -out "$1.pem" -days "${5:-825}" -sha256 -extfile ext.cnf -extensions "$3" 2>/dev/null
}

rsa inter
issue inter root inter "/C=VN/O=vanthu test/CN=vanthu Test Intermediate CA" 3000
cat inter.pem root.pem > chain.pem

rsa leader
issue leader inter signer "/C=VN/O=So Noi vu tinh Hoa Binh/CN=Nguyễn Văn An"
ec clerk
issue clerk inter signer "/C=VN/O=So Noi vu tinh Hoa Binh/CN=Văn thư Sở Nội vụ"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out clerk384.key.pem 2>/dev/null
issue clerk384 inter signer "/C=VN/O=So Noi vu tinh Hoa Binh/CN=Văn thư P-384"
rsa tsa
issue tsa inter tsa "/C=VN/O=vanthu test/CN=vanthu Test TSA"
rsa tsanc
issue tsanc inter tsanc "/C=VN/O=vanthu test/CN=vanthu TSA non-critical EKU"
rsa nokeyusage
issue nokeyusage inter nokeyusage "/C=VN/O=vanthu test/CN=No Signing Usage"
rsa evil
issue evil evil-root signer "/C=VN/O=vanthu test/CN=Evil Signer"

# An expired signer: `openssl ca` can set dates in the past.
rsa expired
mkdir -p ca && : > ca/index.txt && echo 1000 > ca/serial
cat > ca.cnf <<EOF
[ca]
default_ca = inter
[inter]
dir = $PWD/ca
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
certificate = $PWD/inter.pem
private_key = $PWD/inter.key.pem
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
EOF
openssl req -new -key expired.key.pem -out expired.csr -subj "/CN=Expired Signer" -config ext.cnf 2>/dev/null
openssl ca -batch -config ca.cnf -in expired.csr -out expired.pem -notext \
  -startdate 20200101000000Z -enddate 20210101000000Z -extfile ext.cnf -extensions signer 2>/dev/null
rsa revoked
openssl req -new -key revoked.key.pem -out revoked.csr -subj "/CN=Revoked Signer" -config ext.cnf 2>/dev/null
openssl ca -batch -config ca.cnf -in revoked.csr -out revoked.pem -notext -days 825 \
  -extfile ext.cnf -extensions signer 2>/dev/null
openssl ca -config ca.cnf -revoke revoked.pem -crl_reason keyCompromise 2>/dev/null
# A suspended signer (tạm dừng chứng thư số): on inter.crl with reason certificateHold.
ec held
openssl req -new -key held.key.pem -out held.csr -subj "/CN=Suspended Signer" -config ext.cnf 2>/dev/null
openssl ca -batch -config ca.cnf -in held.csr -out held.pem -notext -days 825 \
  -extfile ext.cnf -extensions signer 2>/dev/null
openssl ca -config ca.cnf -revoke held.pem -crl_hold holdInstructionCallIssuer 2>/dev/null
# A signer known to the OCSP responder (in the CA database), and the delegated responder.
rsa ocspok
openssl req -new -utf8 -key ocspok.key.pem -out ocspok.csr -subj "/CN=OCSP Checked Signer" -config ext.cnf 2>/dev/null
openssl ca -batch -config ca.cnf -in ocspok.csr -out ocspok.pem -notext -days 825 \
  -extfile ext.cnf -extensions ocspsigner 2>/dev/null
rsa ocsp
issue ocsp inter ocsp "/C=VN/O=vanthu test/CN=vanthu Test OCSP Responder"
# A responder whose certificate lives one day, as real responders' often do (long-term
# validation must outlive it).
ec ocspshort
issue ocspshort inter ocsp "/C=VN/O=vanthu test/CN=vanthu Short-lived OCSP Responder" 1
openssl ca -config ca.cnf -gencrl -crldays 30 -out inter.crl.pem 2>/dev/null
openssl crl -in inter.crl.pem -outform DER -out inter.crl
# The root's CRL (empty).
mkdir -p rootca && : > rootca/index.txt && echo 2000 > rootca/serial
sed -e "s#$PWD/ca#$PWD/rootca#; s#$PWD/inter.pem#$PWD/root.pem#; s#$PWD/inter.key.pem#$PWD/root.key.pem#" ca.cnf > rootca.cnf
# A second intermediate that the root has revoked, and a signer below it.
rsa badinter
openssl req -new -key badinter.key.pem -out badinter.csr -subj "/C=VN/O=vanthu test/CN=vanthu Revoked Intermediate CA" -config ext.cnf 2>/dev/null
openssl ca -batch -config rootca.cnf -in badinter.csr -out badinter.pem -notext -days 3000 \
  -extfile ext.cnf -extensions inter 2>/dev/null
openssl ca -config rootca.cnf -revoke badinter.pem -crl_reason keyCompromise 2>/dev/null
cat badinter.pem root.pem > badchain.pem
rsa underbad
issue underbad badinter signer "/C=VN/O=vanthu test/CN=Signer Below A Revoked CA"
openssl ca -config rootca.cnf -gencrl -crldays 30 -out root.crl.pem 2>/dev/null
openssl crl -in root.crl.pem -outform DER -out root.crl

for n in leader clerk clerk384 expired nokeyusage evil revoked held ocspok underbad; do
  issuer=chain.pem
  [ "$n" = evil ] && issuer=evil-root.pem
  [ "$n" = underbad ] && issuer=badchain.pem
  openssl pkcs12 -export -inkey "$n.key.pem" -in "$n.pem" -certfile "$issuer" \
    -out "$n.p12" -passout pass:1234 -name "$n"
done
# An old-style file (RC2-40 + 3DES, as older Windows tools export them).
openssl pkcs12 -export -legacy -inkey leader.key.pem -in leader.pem -certfile chain.pem \
  -out leader-legacy.p12 -passout pass:1234 -name leader
openssl x509 -in root.pem -outform DER -out root.der

# Timestamp authority for `openssl ts -reply`.
echo 01 > tsaserial
cat > tsa.cnf <<EOF
[tsa]
default_tsa = tsa_config
[tsa_config]
dir = $PWD
serial = \$dir/tsaserial
crypto_device = builtin
signer_cert = \$dir/tsa.pem
certs = \$dir/chain.pem
signer_key = \$dir/tsa.key.pem
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha1, sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
EOF
rm -f ./*.csr
