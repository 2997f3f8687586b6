#!/bin/sh
# Generates the certificates the TLS tests use, with the openssl command-line
# tool, into directory $1 (created if needed):
#   ca.pem ca.key          test CA
#   server.pem server.key  valid server cert (DNS localhost, IP 127.0.0.1, ::1)
#   chain.pem              server.pem followed by ca.pem
#   expired.pem/.key       signed by the CA, valid only in 2020
#   wronghost.pem/.key     signed by the CA, for wrong.example only
#   selfsigned.pem/.key    self-signed, for localhost
#   client.pem client.key  client certificate signed by the CA
#   other-ca.pem           an unrelated CA (trusts none of the above)
#   cadir/                 hashed CA directory holding ca.pem
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
: "${OPENSSL:=openssl}"

key() { "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

cat > ca.cnf <<'CNF'
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = ./index.txt
new_certs_dir = ./newcerts
serial = ./serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
organizationName = optional
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
[ wronghost ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
[ client ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
CNF
rm -rf newcerts index.txt serial
mkdir newcerts
: > index.txt
echo 1000 > serial

key ca.key
"$OPENSSL" req -x509 -new -key ca.key -subj "/O=gust test/CN=gust test CA" \
  -days 3650 -config ca.cnf -extensions v3_ca -out ca.pem 2>/dev/null
key other-ca.key
"$OPENSSL" req -x509 -new -key other-ca.key -subj "/CN=gust other CA" \
  -days 3650 -config ca.cnf -extensions v3_ca -out other-ca.pem 2>/dev/null

# sign NAME SUBJECT EXTENSIONS [ca options...]
sign() {
  name=$1 subj=$2 ext=$3
  shift 3
  key "$name.key"
  "$OPENSSL" req -new -key "$name.key" -subj "$subj" -out "$name.csr" 2>/dev/null
  "$OPENSSL" ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key \
    -extensions "$ext" -in "$name.csr" -out "$name.pem" -notext "$@" 2>/dev/null
  rm -f "$name.csr"
}
sign server "/O=gust test/CN=localhost" server -days 3650
sign expired "/O=gust test/CN=localhost" server \
  -startdate 20200101000000Z -enddate 20200102000000Z
sign wronghost "/O=gust test/CN=wrong.example" wronghost -days 3650
sign client "/O=gust test/CN=gust client" client -days 3650
cat server.pem ca.pem > chain.pem

key selfsigned.key
"$OPENSSL" req -x509 -new -key selfsigned.key -subj "/CN=localhost" -days 3650 \
  -config ca.cnf -extensions server -out selfsigned.pem 2>/dev/null

mkdir -p cadir
cp ca.pem cadir/ca.pem
"$OPENSSL" rehash cadir 2>/dev/null
