#!/usr/bin/env bash
# Installs and starts the real peers the test suite talks to. Idempotent; fast when all is present.
set -euo pipefail

need=()
command -v snmpd >/dev/null || need+=(snmpd)
command -v snmpget >/dev/null || need+=(snmp)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ping >/dev/null || need+=(iputils-ping)
command -v nft >/dev/null || need+=(nftables)
command -v ip >/dev/null || need+=(iproute2)
command -v promtool >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v prometheus-snmp-exporter >/dev/null || need+=(prometheus-snmp-exporter)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium fonts-dejavu-core)  # the page tests drive Debian's Chromium through Playwright
command -v redis-server >/dev/null || need+=(redis-server)
command -v pdftotext >/dev/null || need+=(poppler-utils)  # the customer SLA report test reads its PDF as text
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)  # Chinese in the customer PDF
command -v npm >/dev/null || need+=(npm)  # `make` installs the pages' chart library (uPlot) with `npm ci`  # the Redis Streams bus; tests also run private ones

if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "system-deps: missing ${need[*]}; run as root or install them with apt-get" >&2
        exit 1
    fi
    echo "system-deps: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Debian's postinst scripts may start system copies of the daemons; the tests start their own.
for svc in snmpd prometheus prometheus-alertmanager prometheus-snmp-exporter; do
    pkill -x "$svc" 2>/dev/null || true
done

# PostgreSQL on 127.0.0.1:5432 for the storage tests (trust or peer auth for postgres).
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then
        ver=$(ls /etc/postgresql | sort -n | tail -1)
        pg_ctlcluster --skip-systemctl-redirect "$ver" main start
        for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
    fi
fi
# The tests connect as postgres:postgres over TCP (NOC_TEST_PG_URL overrides); trust auth ignores the password.
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && [ "$(id -u)" -eq 0 ]; then
    if ! PGPASSWORD=postgres psql -w -h 127.0.0.1 -U postgres -Atc 'select 1' >/dev/null 2>&1; then
        su postgres -c "psql -Atc \"alter user postgres password 'postgres'\"" >/dev/null
    fi
fi
# Redis on 127.0.0.1:6379 for the bus tests (each uses its own key prefix); restart tests start private servers.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no --daemonize yes >/dev/null
    for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
mkdir -p /run/sshd 2>/dev/null || true
echo "system-deps: ok"
