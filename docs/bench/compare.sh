#!/bin/bash
# Reproduces the casier-load comparison of docs/benchmarks.md: Casier and
# Dovecot side by side on loopback, each filled with the same generated
# messages, then loaded with the same mix. NOT part of CI: it installs
# dovecot-imapd with apt-get if missing (root needed) and takes minutes.
#
# Usage: docs/bench/compare.sh            (from the repository root)
# Knobs (environment): MESSAGES=10000 CLIENTS=4 DURATION=30s EACH=10s SEED=1
#   FILL_CLIENTS=4 CASIER_PORT=31143 DOVECOT_PORT=31144 MAIL_FORMAT=sdbox
#   KEEP=1 (leave the work directory)
#
# Dovecot runs as a private instance from a temporary configuration (its
# own base_dir, state_dir, log, passwd-file); the system's dovecot
# configuration and service are not touched. Both servers are stopped at
# exit, by the PIDs this script started.
set -eu

MESSAGES=${MESSAGES:-10000}
CLIENTS=${CLIENTS:-4}
FILL_CLIENTS=${FILL_CLIENTS:-4}
DURATION=${DURATION:-30s}
EACH=${EACH:-10s}
SEED=${SEED:-1}
CASIER_PORT=${CASIER_PORT:-31143}
DOVECOT_PORT=${DOVECOT_PORT:-31144}
MAIL_FORMAT=${MAIL_FORMAT:-sdbox}
PASS=loadtest-password

WORK=$(mktemp -d /tmp/casier-compare.XXXXXX)
chmod 755 "$WORK"
CASIER_PID=
DOVECOT_PID=
cleanup() {
	[ -n "$CASIER_PID" ] && kill "$CASIER_PID" 2>/dev/null && wait "$CASIER_PID" 2>/dev/null
	[ -n "$DOVECOT_PID" ] && kill "$DOVECOT_PID" 2>/dev/null && wait "$DOVECOT_PID" 2>/dev/null
	if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "work directory kept: $WORK"; fi
}
trap cleanup EXIT INT TERM

waitport() { # host port
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "nothing listens on $1:$2" >&2
	return 1
}

for p in "$CASIER_PORT" "$DOVECOT_PORT"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		echo "port $p is already in use: set CASIER_PORT / DOVECOT_PORT" >&2
		exit 1
	fi
done

if ! command -v dovecot >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-imapd >/dev/null
fi

echo "== building"
go build -o "$WORK/casier" ./cmd/casier
go build -o "$WORK/casier-load" ./cmd/casier-load

echo "== machine"
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version | cut -d' ' -f3), $(dovecot --version | cut -d' ' -f1)"
grep -m1 'model name' /proc/cpuinfo || true

echo "== starting Casier on 127.0.0.1:$CASIER_PORT"
echo "$PASS" | "$WORK/casier" user add --data "$WORK/casier-data" alice >/dev/null
"$WORK/casier" serve --data "$WORK/casier-data" --imap "127.0.0.1:$CASIER_PORT" --imaps "" \
	--hostname localhost --log-level warn 2>"$WORK/casier.log" &
CASIER_PID=$!
waitport 127.0.0.1 "$CASIER_PORT"

echo "== starting Dovecot ($MAIL_FORMAT) on 127.0.0.1:$DOVECOT_PORT"
D="$WORK/dovecot"
mkdir -p "$D/run" "$D/state" "$D/mail"
chown 65534:65534 "$D/mail"
echo "alice:{PLAIN}$PASS" >"$D/passwd"
cat >"$D/dovecot.conf" <<CONF
base_dir = $D/run
state_dir = $D/state
instance_name = casier-compare
log_path = $D/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 100
mail_location = $MAIL_FORMAT:~/mail
mail_max_userip_connections = 1000
passdb {
  driver = passwd-file
  args = scheme=PLAIN $D/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$D/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service imap {
  process_limit = 1024
}
CONF
dovecot -F -c "$D/dovecot.conf" &
DOVECOT_PID=$!
waitport 127.0.0.1 "$DOVECOT_PORT"

LOAD="$WORK/casier-load -user alice -pass $PASS"
echo "== filling both with $MESSAGES messages ($FILL_CLIENTS clients)"
echo "casier:  $($LOAD -addr 127.0.0.1:$CASIER_PORT -clients "$FILL_CLIENTS" -fill "$MESSAGES")"
echo "dovecot: $($LOAD -addr 127.0.0.1:$DOVECOT_PORT -clients "$FILL_CLIENTS" -fill "$MESSAGES")"

echo "== load: $CLIENTS clients, $DURATION, seed $SEED"
$LOAD -addr "127.0.0.1:$CASIER_PORT" -clients "$CLIENTS" -duration "$DURATION" -seed "$SEED" | tee "$WORK/casier.txt"
echo
$LOAD -addr "127.0.0.1:$DOVECOT_PORT" -clients "$CLIENTS" -duration "$DURATION" -seed "$SEED" | tee "$WORK/dovecot.txt"

# In the mixed load every client waits for each answer, so all commands
# share one pace: per-command throughput ratios all equal the total's.
# Each command alone shows its own throughput.
echo
echo "== each command alone: $CLIENTS clients, $EACH"
for op in select fetch-flags fetch-headers fetch-body search-unseen store-seen append noop; do
	for srv in casier dovecot; do
		port=$CASIER_PORT
		[ "$srv" = dovecot ] && port=$DOVECOT_PORT
		$LOAD -addr "127.0.0.1:$port" -clients "$CLIENTS" -duration "$EACH" -seed "$SEED" -mix "$op=1" |
			awk -v op="$op" '$1 == op' >>"$WORK/$srv-each.txt"
	done
done
echo "command           Casier ops/s  Dovecot ops/s  ratio   Casier p50  Dovecot p50  Casier p99  Dovecot p99"
awk 'FNR == 1 { f++ }
	f == 1 { ops[$1] = $4; p50[$1] = $6; p99[$1] = $8; order[++n] = $1 }
	f == 2 { dops[$1] = $4; dp50[$1] = $6; dp99[$1] = $8 }
	END { for (i = 1; i <= n; i++) { c = order[i]
		printf "%-14s %15s %14s %6.2f %12s %12s %11s %12s\n", c, ops[c], dops[c], (dops[c] > 0 ? ops[c] / dops[c] : 0), p50[c], dp50[c], p99[c], dp99[c] } }' \
	"$WORK/casier-each.txt" "$WORK/dovecot-each.txt"

echo
echo "== mixed load, Casier / Dovecot (throughput: >1 means Casier does more; latency: <1 means Casier is faster)"
awk '
	FNR == 1 { f++ }
	/^(command|target)/ { next }
	f == 1 { ops[$1] = $4; p50[$1] = $6; p99[$1] = $8; order[++n] = $1 }
	f == 2 { dops[$1] = $4; dp50[$1] = $6; dp99[$1] = $8 }
	function r(a, b) { a += 0; b += 0; return b > 0 ? sprintf("%.2f", a / b) : "-" }
	END {
		printf "%-14s %10s %10s %10s\n", "command", "ops/s", "p50", "p99"
		for (i = 1; i <= n; i++) { c = order[i]
			printf "%-14s %10s %10s %10s\n", c, r(ops[c], dops[c]), r(p50[c], dp50[c]), r(p99[c], dp99[c]) }
	}' "$WORK/casier.txt" "$WORK/dovecot.txt"
