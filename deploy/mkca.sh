#!/usr/bin/env bash
# deploy/mkca.sh — a county CA and a relay server certificate signed by it, in one command.
#
#   sudo deploy/mkca.sh DIR NAME [NAME...]
#   e.g. sudo deploy/mkca.sh /etc/banbantong/tls relay.xx-county.edu.cn 10.12.0.5
#
# 在 DIR 中生成县级 CA 和中继服务器证书（NAME 为中继的域名或 IP 地址，可写多个）：
# Creates in DIR (made 0750 if missing):
#   ca.pem      the county CA certificate (10 years): install it on classroom PCs and browsers,
#               and give it to bbt-node as [node] ca_file
#   ca.key      its private key (0600): keep it; it signs the next server certificate
#   server.pem  the relay's certificate (825 days) for every NAME (host names as DNS, addresses
#               as IP subjectAltNames; localhost and 127.0.0.1 are added), then ca.pem: the chain
#   server.key  its private key (0600)
# An existing CA in DIR is reused (a new server certificate, same CA: classroom PCs keep
# trusting it); delete ca.* for a new CA. Keys are ECDSA P-256, signatures SHA-256.
# Set BBT_TLS_OWNER=user[:group] to chown the keys to the relay's user (default: banbantong
# when that user exists). Relay configuration afterwards:
#   [relay]
#   tls_cert = DIR/server.pem
#   tls_key = DIR/server.key
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "用法 / usage: $0 DIR NAME [NAME...]   (NAME: 中继的域名或 IP / the relay's host name or IP)" >&2
  exit 2
fi
dir=$1
shift
command -v openssl >/dev/null || { echo "mkca: openssl is missing (apt-get install openssl)" >&2; exit 1; }
umask 077
mkdir -p "$dir"
chmod 750 "$dir"

san="DNS:localhost,IP:127.0.0.1"
cn=""
for n in "$@"; do
  if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then
    san="$san,IP:$n"
  elif [[ $n =~ ^[A-Za-z0-9.-]+$ ]]; then
    san="$san,DNS:$n"
  else
    echo "mkca: \"$n\" is neither a host name nor an IP address / 不是域名或 IP 地址" >&2
    exit 2
  fi
  [ -n "$cn" ] || cn=$n
done

if [ ! -s "$dir/ca.pem" ] || [ ! -s "$dir/ca.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes -days 3650 \
    -subj "/O=banbantong/CN=banbantong county CA $cn" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  echo "mkca: 已创建县级 CA / created the county CA: $dir/ca.pem"
else
  echo "mkca: 沿用已有的 CA / reusing the CA: $dir/ca.pem"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes -subj "/CN=$cn" \
  -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
cat >"$tmp/ext.cnf" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san
EOF
openssl x509 -req -in "$tmp/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
  -CAserial "$tmp/ca.srl" -days 825 -sha256 -extfile "$tmp/ext.cnf" -out "$tmp/server.crt" \
  2>/dev/null
cat "$tmp/server.crt" "$dir/ca.pem" >"$dir/server.pem"
mv "$tmp/server.key" "$dir/server.key"
chmod 600 "$dir/ca.key" "$dir/server.key"
chmod 644 "$dir/ca.pem" "$dir/server.pem"
owner=${BBT_TLS_OWNER:-}
if [ -z "$owner" ] && id banbantong >/dev/null 2>&1; then owner=banbantong; fi
if [ -n "$owner" ]; then chown "$owner" "$dir/server.key" "$dir/ca.key" "$dir"; fi
openssl verify -CAfile "$dir/ca.pem" "$tmp/server.crt" >/dev/null
echo "mkca: 服务器证书 / server certificate: $dir/server.pem ($san)"
echo "mkca: relay.ini:  tls_cert = $dir/server.pem   tls_key = $dir/server.key"
echo "mkca: 教室电脑与 bbt-node 需信任 / classroom PCs and bbt-node trust: $dir/ca.pem"
