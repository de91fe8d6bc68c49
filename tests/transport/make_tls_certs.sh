#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes a throwaway PKI for the TLS tests in DIR (nothing here is ever committed):
#   ca.pem            the test CA;            node.pem/node.key     a node, SAN IP:127.0.0.1
#   wrong-name.pem/key  a node named 127.0.0.9 (IP SAN) only, for --tls-verify-name
#   expired.pem/key   a node whose validity ended in 2020 (signed by the test CA with `openssl ca`)
#   foreign-ca.pem    another CA;             foreign.pem/key       a node signed by it
#   new-ca.pem        a CA for rotation;      new.pem/key           a node signed by it
#   both-ca.pem       ca.pem + new-ca.pem (the bundle after a rotation)
# Exits 77 (a ctest SKIP) when the openssl command is missing; 1 on any other failure.
set -euo pipefail
dir=${1:?usage: make_tls_certs.sh DIR}
command -v openssl >/dev/null || { echo "SKIPPED: no openssl command (scripts/install-deps.sh installs it)" >&2; exit 77; }
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

make_ca() {  # name subject
  key "$1.key"
  openssl req -new -x509 -key "$1.key" -out "$1.pem" -days 30 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

ext_for() {  # ip -> an extension file for a node certificate naming it
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:%s\n' "$1" >"ext-$1.cnf"
  echo "ext-$1.cnf"
}

make_node() {  # name ca ip
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=hypar node $1" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days 30 \
    -extfile "$(ext_for "$3")" 2>/dev/null
}

make_ca ca "hypar test CA"
make_ca foreign-ca "hypar foreign CA"
make_ca new-ca "hypar new CA"
make_node node ca 127.0.0.1
make_node wrong-name ca 127.0.0.9
make_node foreign foreign-ca 127.0.0.1
make_node new new-ca 127.0.0.1
cat ca.pem new-ca.pem >both-ca.pem

# An expired certificate: `openssl ca` takes an explicit validity in the past.
mkdir -p ca-db
: >ca-db/index.txt
echo 1000 >ca-db/serial
cat >ca-db/ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = ca-db
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = node
unique_subject = no
[any]
commonName = supplied
[node]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = IP:127.0.0.1
CNF
key expired.key
openssl req -new -key expired.key -out expired.csr -subj "/CN=hypar expired node" 2>/dev/null
openssl ca -batch -config ca-db/ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
  -startdate 20200101000000Z -enddate 20200102000000Z -notext 2>/dev/null
openssl verify -CAfile ca.pem node.pem >/dev/null
if openssl verify -CAfile ca.pem expired.pem >/dev/null 2>&1; then echo "expired.pem verifies" >&2; exit 1; fi
