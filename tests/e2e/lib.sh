# Shared settings of the end-to-end scripts (sourced, not run).
# MP_E2E_NETNS names the network namespace, MP_E2E_DIR the private runtime directory
# that holds every configuration, key, log, queue and mailbox of the stack.
# The scenarios grep English messages: the machine's locale must not change them.
export LANG=C LC_ALL= LC_MESSAGES= LANGUAGE=
# shellcheck disable=SC2034 # the variables are used by the scripts that source this
E2E=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$E2E/../.." && pwd)
FIX=$TOP/fixtures
NS=${MP_E2E_NETNS:-mailproof-e2e}
RUN=${MP_E2E_DIR:-/tmp/mailproof-e2e}
# The system interpreter: the daemons' Python modules (spf, milter) live there.
PY=/usr/bin/python3
MARKER=.mailproof-e2e-stack

# Addressing plan (documentation ranges; every host is a /32 on the namespace's lo).
IP_NS=192.0.2.53
IP_RELAY=192.0.2.25
IP_MX=198.51.100.25
IP_ROGUE=203.0.113.66
IP_CLIENT=203.0.113.10

e2e_log() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# e2e_can_run: 0 when this machine can run the stack, else prints why and returns 1.
e2e_can_run() {
	if [ "$(id -u)" -ne 0 ]; then
		e2e_log "skipped: needs root (network namespaces)"
		return 1
	fi
	if ! ip netns list >/dev/null 2>&1; then
		e2e_log "skipped: 'ip netns' is not available"
		return 1
	fi
	for b in /usr/sbin/postfix /usr/sbin/opendkim /usr/sbin/opendmarc /usr/bin/pyspf-milter \
	    /usr/sbin/unbound /usr/sbin/dovecot /usr/bin/sievec /usr/bin/nsenter "$PY"; do
		if [ ! -x "$b" ]; then
			e2e_log "skipped: $b is missing (run scripts/install-deps)"
			return 1
		fi
	done
	return 0
}

# e2e_holder: PID of the process that keeps the stack's mount namespace alive.
e2e_holder() {
	sed -n 's/^holder //p' "$RUN/pids" 2>/dev/null
}

# e2e_running: 0 when the stack of $RUN is up.
e2e_running() {
	h=$(e2e_holder)
	[ -n "$h" ] && [ -e "/run/netns/$NS" ] && kill -0 "$h" 2>/dev/null
}
